"""Internal: The progress bar on standard error: rows, rows/s and, when the size is known, the ETA.

Parquet files know their row count. For text files the total is estimated from the bytes read
so far (rows per byte times the file's size) and refined as the run goes; for pipes there is
no total, hence no ETA. Without tqdm (the ``ingest`` extra brings it) there is no bar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = ["Progress"]


class Progress:
    """One bar per file; `advance(rows)` after each batch."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._bar: Any = None
        self._estimate: Callable[[int], int | None] = lambda done: None
        self._done = 0

    def start(self, name: str, estimate: Callable[[int], int | None]) -> None:
        """A bar for file `name`; `estimate(rows_done)` gives its total rows, when it can."""
        self.finish()
        if not self._enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self._estimate = estimate
        self._done = 0
        self._bar = tqdm(
            total=estimate(0), desc=name, unit=" rows", unit_scale=True, file=sys.stderr, dynamic_ncols=True
        )

    def advance(self, rows: int) -> None:
        if self._bar is None or not rows:
            return
        self._done += rows
        total = self._estimate(self._done)
        if total is not None and total != self._bar.total:
            self._bar.total = max(total, self._done)
        self._bar.update(rows)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.total = self._done  # the estimate was an estimate: the file is read now
            self._bar.refresh()
            self._bar.close()
            self._bar = None
