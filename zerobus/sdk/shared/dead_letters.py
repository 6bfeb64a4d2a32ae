"""Internal: Dead letters: records a stream cannot deliver go to a sink instead of only raising.

Opt in with ``StreamConfigurationOptions(dead_letters=...)``: a path (a JSON-lines file, see
`dead_letter_entry`) or a callable receiving a `DeadLetter`. Two kinds of record go there:

- ``"refused"``: an ingest call refused the record itself (it does not fit the table, is too
  large, is of the wrong type) while the stream is healthy (in a pool: also while some of its
  streams still take records, for a record that does not fit the table). The call then returns None
  instead of raising; a batch call queues the good records and returns their offset.
- ``"unacknowledged"``: the stream failed for good (recovery exhausted, a non-retriable
  error). Its unacknowledged records, in ingest order, then the records of the ingest call
  that met the failure, each once, as soon as a call on the stream reports the failure
  (ingest, flush, close, the ``with`` block's exit). That call still raises the failure.

Every record thus ends up acknowledged, in the sink, or in the hands of a caller who got an
exception for it; never two of these. Records of an unacknowledged stream are encoded
payloads (protobuf bytes, JSON text), as `get_unacked_records()` returns them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from zerobus.dead_letter_file import JsonLinesFile, json_safe
from zerobus.errors import ConfigurationError, InvalidRecordError, ZerobusException

__all__ = [
    "DeadLetter",
    "DeadLetterGuard",
    "DeadLetterSink",
    "DeadLetterTarget",
    "check_dead_letters",
    "dead_letter_entry",
]

logger = logging.getLogger(__name__)

Stage = Literal["refused", "unacknowledged"]


@dataclass(frozen=True)
class DeadLetter:
    """One record that was not delivered, and why."""

    record: object
    reason: str
    exception: BaseException | None
    table: str
    stage: Stage
    offset: int | None = None
    timestamp: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


DeadLetterSink = Callable[[DeadLetter], None]
DeadLetterTarget = str | os.PathLike[str] | DeadLetterSink


def check_dead_letters(name: str, value: Any) -> Any:
    """The option's check: None, a file path, or a callable taking a `DeadLetter`."""
    if value is None or callable(value):
        return value
    if isinstance(value, (str, os.PathLike)) and str(value):
        return value
    raise ConfigurationError(
        f"StreamConfigurationOptions.{name} must be a file path or a callable taking a DeadLetter, got {value!r}"
    )


def dead_letter_entry(letter: DeadLetter) -> dict[str, Any]:
    """The JSON object a dead-letter file holds for `letter`.

    ``record`` is the record as JSON: dicts and lists as they are, Pydantic models dumped,
    text as text; bytes and protobuf messages in base64 (``record_encoding`` says which).
    """
    record, encoding = _json_record(letter.record)
    error = letter.exception
    return {
        "timestamp": letter.timestamp.isoformat(),
        "table": letter.table,
        "stage": letter.stage,
        "offset": letter.offset,
        "reason": letter.reason,
        "error": type(error).__name__ if error is not None else None,
        "field": error.field if isinstance(error, InvalidRecordError) else None,
        "record_encoding": encoding,
        "record": record,
    }


def _json_record(record: object) -> tuple[Any, str]:
    if isinstance(record, (bytes, bytearray, memoryview)):
        return json_safe(record), "base64"
    if isinstance(record, str):
        return record, "text"
    dump = getattr(record, "model_dump", None)
    if callable(dump):
        return dump(mode="json"), "json"
    serialize = getattr(record, "SerializeToString", None)
    if callable(serialize):
        return json_safe(serialize()), "base64"
    return record, "json"


def _reason(error: BaseException) -> str:
    return error.message if isinstance(error, ZerobusException) else f"{type(error).__name__}: {error}"


class _FileSink:
    """Writes `dead_letter_entry` lines to a path; each line is flushed, so a crash keeps it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: JsonLinesFile | None = JsonLinesFile(path)  # a bad path fails at create_stream
        self._lock = threading.Lock()

    def __call__(self, letter: DeadLetter) -> None:
        with self._lock:
            if self._file is None:  # written again after the stream was closed
                self._file = JsonLinesFile(self._path)
            self._file.write(dead_letter_entry(letter), flush=True)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class DeadLetterGuard:
    """Per stream or pool: decides what a failed call means and sends records to the sink."""

    def __init__(self, target: DeadLetterTarget, table: str) -> None:
        self._file: _FileSink | None = None
        if callable(target):
            self._sink: DeadLetterSink = target
        else:
            self._file = _FileSink(Path(target))
            self._sink = self._file
        self.table = table
        self._lock = threading.Lock()
        self._drained: set[int] = set()

    def refused(self, records: Sequence[object], error: BaseException) -> None:
        for record in records:
            self._sink(DeadLetter(record, _reason(error), error, self.table, "refused"))

    def failed(self, streams: Sequence[Any], in_hand: Sequence[object], error: BaseException | None) -> None:
        """Send every failed stream's unacknowledged records (once per stream), then `in_hand`."""
        for stream in streams:
            if not _has_failed(stream):
                continue
            with self._lock:
                if id(stream) in self._drained:
                    continue
                self._drained.add(id(stream))
            self._drain(stream)
        reason = _reason(error) if error is not None else "the stream failed"
        for record in in_hand:
            self._sink(DeadLetter(record, reason, error, self.table, "unacknowledged"))

    def drained(self, stream: Any) -> bool:
        """Whether `stream`'s unacknowledged records were sent to the sink."""
        with self._lock:
            return id(stream) in self._drained

    def _drain(self, stream: Any) -> None:
        failure = stream._core.failure
        reason = _reason(failure) if failure is not None else "the stream failed"
        batches = stream._unacked_batches()
        first_offset = stream._core.last_offset - len(batches) + 1
        count = 0
        for index, batch in enumerate(batches):
            for payload in batch:
                self._sink(
                    DeadLetter(payload, reason, failure, self.table, "unacknowledged", first_offset + index)
                )
                count += 1
        if count:
            logger.warning(
                "stream to %s failed: %d unacknowledged records sent to dead letters", self.table, count
            )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _has_failed(stream: Any) -> bool:
    from zerobus.engine.state import StreamState

    return bool(stream.get_state() is StreamState.FAILED)
