"""Internal: The dead-letter file of `zerobus-ingest`: one JSON object per refused row, appended, so a row is never just dropped.

Each line holds the file, where the row was (``"line"`` for CSV and JSON lines, ``"row"`` for
Parquet), the row as the file held it (``"record"``), the field at fault when one is known, and
the reason. Lines are flushed after every batch, so an abandoned run keeps what it wrote. The
writing itself (JSON forms of dates, decimals, bytes) is the SDK's dead-letter writer's,
`zerobus.dead_letter_file`.
"""

from __future__ import annotations

from pathlib import Path

from zerobus.dead_letter_file import JsonLinesFile
from zerobus.ingest.batch import RefusedRow

__all__ = ["DeadLetterFile"]


class DeadLetterFile:
    """Appends refused rows to `path` (opened when created, so a bad path fails before any row is sent)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines = JsonLinesFile(path)

    @property
    def count(self) -> int:
        return self._lines.count

    def write(self, source: str, position_key: str, row: RefusedRow) -> None:
        entry = {
            "file": source,
            position_key: row.number,
            "record": row.raw,
            "field": row.field,
            "reason": row.reason,
        }
        self._lines.write(entry)

    def flush(self) -> None:
        self._lines.flush()

    def close(self) -> None:
        self._lines.close()
