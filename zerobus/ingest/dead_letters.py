"""The dead-letter file: one JSON object per refused row, appended, so a row is never just dropped.

Each line holds the file, where the row was (``"line"`` for CSV and JSON lines, ``"row"`` for
Parquet), the row as the file held it (``"record"``), the field at fault when one is known, and
the reason. Lines are flushed after every batch, so an abandoned run keeps what it wrote.
Values JSON has no type for are written as text: dates and times in ISO form, decimals exactly,
bytes in base64.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from pathlib import Path
from typing import IO, Any

from zerobus.errors import ConfigurationError
from zerobus.ingest.batch import RefusedRow

__all__ = ["DeadLetterFile"]


def _as_json(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


class DeadLetterFile:
    """Appends refused rows to `path` (opened when created, so a bad path fails before any row is sent)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        try:
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(
                f"cannot open the dead-letter file {path}: {error.strerror or error}"
            ) from error

    def write(self, source: str, position_key: str, row: RefusedRow) -> None:
        entry = {
            "file": source,
            position_key: row.number,
            "record": row.raw,
            "field": row.field,
            "reason": row.reason,
        }
        # ASCII: a CSV byte that was not UTF-8 survives as a \\udcXX escape instead of failing here.
        self._file.write(json.dumps(entry, default=_as_json, ensure_ascii=True) + "\n")
        self.count += 1

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
