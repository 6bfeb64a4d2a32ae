"""Internal: A dead-letter file: JSON objects appended one a line, shared by `zerobus-ingest` and the SDK.

The file is opened when the writer is made, so a bad path fails before any record is sent.
Values JSON has no type for are written as text: dates and times in ISO form, decimals exactly,
bytes in base64. Lines are ASCII (a byte that was not UTF-8 survives as a ``\\udcXX`` escape
instead of failing the write). Writes are serialised: pool streams and callbacks may share one.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from zerobus.errors import ConfigurationError

__all__ = ["JsonLinesFile", "json_safe"]


def json_safe(value: Any) -> Any:
    """The JSON form of a value `json` cannot write by itself."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


class JsonLinesFile:
    """Appends one JSON object a line to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        try:
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as error:
            raise ConfigurationError(
                f"cannot open the dead-letter file {path}: {error.strerror or error}"
            ) from error

    def write(self, entry: Mapping[str, Any], flush: bool = False) -> None:
        line = json.dumps(entry, default=json_safe, ensure_ascii=True) + "\n"
        with self._lock:
            self._file.write(line)
            self.count += 1
            if flush:
                self._file.flush()

    def flush(self) -> None:
        with self._lock:
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
