"""Stream options, record types and acknowledgment callbacks (the official SDK's names and defaults).

`StreamConfigurationOptions` is frozen and keyword-only, and checks every value when it is
built, so a typo or a negative timeout fails at the line that wrote it, naming the option and
the value, instead of somewhere inside a running stream.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NoReturn

from zerobus.codegen.time_units import DATE_UNITS, TIMESTAMP_UNITS, DateUnit, IntegerUnits, TimestampUnit
from zerobus.errors import ConfigurationError

__all__ = ["AckCallback", "AckCallbackType", "RecordType", "StreamConfigurationOptions"]


class RecordType(enum.IntEnum):
    """How records travel: protobuf bytes or JSON text. UNSPECIFIED: infer from the table properties."""

    UNSPECIFIED = 0
    PROTO = 1
    JSON = 2


class AckCallback:
    """Subclass and override to hear about each ingest submission's outcome.

    `on_ack(offset)` runs once per submission (a record, or a list sent with the batch API)
    when it becomes durable; `on_error(offset, message)` once per submission that never will,
    when the stream fails for good. Callbacks run on a dedicated thread, never under the
    stream's locks; an exception raised by one is logged and does not affect the stream.
    """

    def on_ack(self, offset: int) -> None:
        """The submission with logical offset `offset` is durable."""

    def on_error(self, offset: int, error_message: str) -> None:
        """The submission with logical offset `offset` failed and was not acknowledged."""


# The old SDK's plain callable receives an `IngestRecordResponse` whose
# `durability_ack_up_to_offset` is the last durable logical offset.
AckCallbackType = AckCallback | Callable[[Any], None]

_POSITIVE_MS = ("recovery_timeout_ms", "flush_timeout_ms", "server_lack_of_ack_timeout_ms")
_NON_NEGATIVE_MS = ("recovery_backoff_ms",)
_OPTIONAL_MS = ("stream_paused_max_wait_time_ms", "callback_max_wait_time_ms")


@dataclass(frozen=True, kw_only=True)
class StreamConfigurationOptions:
    """How a stream behaves. Defaults are the official SDK's (docs/PROTOCOL.md section 5).

    - `max_inflight_records`: records ingested but not yet acknowledged before ingest calls block.
    - `recovery`: reopen the stream after retryable failures, resending what was not acknowledged.
    - `recovery_timeout_ms`: the time one attempt to (re)open the stream may take.
    - `recovery_backoff_ms`: the pause between attempts.
    - `recovery_retries`: consecutive failed attempts (without progress in between) before the
      stream fails for good.
    - `flush_timeout_ms`: how long `flush()` and `close()` wait for acknowledgments.
    - `server_lack_of_ack_timeout_ms`: with records in flight and no acknowledgment for this long,
      the server is considered unresponsive and the stream recovers. An idle stream never times out.
    - `ack_callback`: an `AckCallback`, or a plain callable receiving an `IngestRecordResponse`.
    - `record_type`: `RecordType.PROTO` (default), `JSON`, or `UNSPECIFIED` (PROTO when the table
      properties carry a descriptor, JSON otherwise).
    - `stream_paused_max_wait_time_ms`: after a server close signal, how long to wait for
      in-flight acknowledgments before moving to a new call: None waits the server's whole
      duration, 0 moves at once, x waits min(x, duration).
    - `callback_max_wait_time_ms`: how long `close()` waits for pending callbacks (None: forever).
    - `timestamp_unit`: the unit of integers given for TIMESTAMP / TIMESTAMP_NTZ columns in dicts
      and JSON text: 's', 'ms', 'us' or 'ns', converted to the wire's microseconds. None: they
      are microseconds, and one whose magnitude looks like seconds, milliseconds or nanoseconds
      is refused ('us' accepts every integer). Compiled `_pb2` messages are never converted.
    - `date_unit`: the same for DATE integers: 'days' (the wire unit), 's' or 'ms' (UTC
      midnight); None: days, refusing seconds- or milliseconds-sized values.
    """

    max_inflight_records: int = 50_000
    recovery: bool = True
    recovery_timeout_ms: int = 15_000
    recovery_backoff_ms: int = 2_000
    recovery_retries: int = 3
    flush_timeout_ms: int = 300_000
    server_lack_of_ack_timeout_ms: int = 60_000
    ack_callback: AckCallbackType | None = None
    record_type: RecordType = RecordType.PROTO
    stream_paused_max_wait_time_ms: int | None = None
    callback_max_wait_time_ms: int | None = 5_000
    timestamp_unit: TimestampUnit | None = None
    date_unit: DateUnit | None = None

    def __post_init__(self) -> None:
        _require_int(self, "max_inflight_records", self.max_inflight_records, minimum=1)
        _require_int(self, "recovery_retries", self.recovery_retries, minimum=0)
        for name in _POSITIVE_MS:
            _require_int(self, name, getattr(self, name), minimum=1)
        for name in _NON_NEGATIVE_MS:
            _require_int(self, name, getattr(self, name), minimum=0)
        for name in _OPTIONAL_MS:
            if getattr(self, name) is not None:
                _require_int(self, name, getattr(self, name), minimum=0)
        if not isinstance(self.recovery, bool):
            _invalid("recovery", self.recovery, "must be True or False")
        object.__setattr__(self, "record_type", _record_type(self.record_type))
        if self.timestamp_unit is not None and self.timestamp_unit not in TIMESTAMP_UNITS:
            _invalid("timestamp_unit", self.timestamp_unit, f"must be one of {TIMESTAMP_UNITS} or None")
        if self.date_unit is not None and self.date_unit not in DATE_UNITS:
            _invalid("date_unit", self.date_unit, f"must be one of {DATE_UNITS} or None")
        callback = self.ack_callback
        if callback is not None:
            if isinstance(callback, type):
                _invalid(
                    "ack_callback", callback, "pass an instance of your AckCallback subclass, not the class"
                )
            if not isinstance(callback, AckCallback) and not callable(callback):
                _invalid("ack_callback", callback, "must be an AckCallback instance or a callable")

    @property
    def integer_units(self) -> IntegerUnits:
        """`timestamp_unit` and `date_unit`, as the record encoders take them."""
        return IntegerUnits(self.timestamp_unit, self.date_unit)

    def replace(self, **changes: Any) -> StreamConfigurationOptions:
        """A copy with some options changed (validated like the original)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        unknown = set(changes) - set(values)
        if unknown:
            raise ConfigurationError(f"StreamConfigurationOptions has no option(s) {sorted(unknown)}")
        values.update(changes)
        return StreamConfigurationOptions(**values)


def _invalid(name: str, value: Any, reason: str) -> NoReturn:
    raise ConfigurationError(f"StreamConfigurationOptions.{name} {reason}, got {value!r}")


def _require_int(options: StreamConfigurationOptions, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _invalid(name, value, "must be an integer")
    if value < minimum:
        _invalid(name, value, f"must be >= {minimum}")


def _record_type(value: Any) -> RecordType:
    if isinstance(value, RecordType):
        return value
    if isinstance(value, str) and value.upper() in RecordType.__members__:
        return RecordType[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return RecordType(value)
    # The official core's RecordType objects carry an int `value`.
    inner = getattr(value, "value", None)
    if isinstance(inner, int) and inner in (0, 1, 2):
        return RecordType(inner)
    _invalid("record_type", value, "must be RecordType.PROTO, RecordType.JSON or RecordType.UNSPECIFIED")
