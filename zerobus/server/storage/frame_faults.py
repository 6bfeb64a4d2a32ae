"""Internal: Injected materialisation failures: a log frame the materializer cannot turn into Delta rows.

The record checks refuse at ingest every value Delta cannot hold, so a frame that passes them
but fails to materialise cannot be produced for real; tests arm one here (through
`FaultInjector.fail_materialization`) to exercise the quarantine. A frame stays failing until
`reset()`.
"""

from __future__ import annotations

import threading

__all__ = ["FrameFaults"]


class FrameFaults:
    """Frames (table, seq) whose materialisation must fail, with the reason (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failing: dict[tuple[str, int], str] = {}
        self.armed = False  # read without the lock by the materializer, per frame

    def fail(self, full_name: str, seq: int, reason: str) -> None:
        with self._lock:
            self._failing[(full_name.lower(), seq)] = reason
            self.armed = True

    def failure(self, full_name: str, seq: int) -> str | None:
        """The reason frame `seq` of the table must fail to materialise, or None."""
        if not self.armed:
            return None
        with self._lock:
            return self._failing.get((full_name.lower(), seq))

    def reset(self) -> None:
        with self._lock:
            self._failing.clear()
            self.armed = False
