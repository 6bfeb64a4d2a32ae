"""Internal: Rows on their way from a reader to the stream: parallel lists, filled in place, taken whole.

Readers append to the lists of one `RowBatch` (keeping references to them for speed) and the
run takes what has accumulated with `take()`, which copies and clears the lists in place, so
the reader's references stay valid. That lets the run land parsed rows whenever it wants
(before a read waits for input, on Ctrl-C) without the reader's cooperation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RefusedRow", "RowBatch", "TakenRows"]


@dataclass(frozen=True)
class RefusedRow:
    """A row that will not land: where it was, what it held, and why."""

    number: int
    raw: Any
    reason: str
    field: str | None = None


@dataclass(frozen=True)
class TakenRows:
    records: list[dict[str, Any]]
    numbers: list[int]
    raws: list[Any]
    refused: list[RefusedRow]
    raw_form: Callable[[Any], Any]

    def __len__(self) -> int:
        return len(self.records) + len(self.refused)

    def raw(self, index: int) -> Any:
        """What a dead letter shows for `records[index]`: the row as the file held it."""
        return self.raw_form(self.raws[index])


@dataclass
class RowBatch:
    """Rows read so far and not yet taken: `records[i]` came from `numbers[i]`, looking like `raws[i]`.

    `raw_form` turns a stored raw value into what a dead letter shows (a CSV row's fields
    become a dict keyed by the header).
    """

    raw_form: Callable[[Any], Any] = field(default=lambda raw: raw)
    records: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    raws: list[Any] = field(default_factory=list)
    refused: list[RefusedRow] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.refused)

    def refuse(self, number: int, raw: Any, reason: str, field_path: str | None = None) -> None:
        self.refused.append(RefusedRow(number, self.raw_form(raw), reason, field_path))

    def take(self) -> TakenRows:
        """Everything accumulated, leaving the lists (the same list objects) empty."""
        taken = TakenRows(self.records[:], self.numbers[:], self.raws[:], self.refused[:], self.raw_form)
        self.records.clear()
        self.numbers.clear()
        self.raws.clear()
        self.refused.clear()
        return taken
