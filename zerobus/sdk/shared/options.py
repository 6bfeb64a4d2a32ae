"""Internal: Stream options, record types and acknowledgment callbacks (the official SDK's names and defaults).

`StreamConfigurationOptions` is keyword-only and mutable, as the official SDK's is, and checks
every value when it is built and whenever it is assigned, so a typo or a negative timeout fails
at the line that wrote it, naming the option and the value, instead of somewhere inside a
running stream. A stream keeps a copy of the options it was created with.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, NoReturn

from zerobus.errors import ConfigurationError, UnknownOptionError
from zerobus.protocol.messages import IngestRecordResponse, RecordTypeValue
from zerobus.schema.time_units import DATE_UNITS, TIMESTAMP_UNITS, DateUnit, IntegerUnits, TimestampUnit
from zerobus.sdk.shared.dead_letters import DeadLetterTarget, check_dead_letters
from zerobus.sdk.shared.option_rules import refuse_unknown_keywords

__all__ = ["AckCallback", "AckCallbackType", "RecordType", "StreamConfigurationOptions"]


class RecordType(enum.IntEnum):
    """How records travel: protobuf bytes, JSON text or Avro binary. UNSPECIFIED: infer from the
    table properties (an avro_schema selects AVRO, a descriptor PROTO, neither JSON)."""

    UNSPECIFIED = RecordTypeValue.UNSPECIFIED
    PROTO = RecordTypeValue.PROTO
    JSON = RecordTypeValue.JSON
    AVRO = RecordTypeValue.AVRO


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
AckCallbackType = AckCallback | Callable[[IngestRecordResponse], None]


@refuse_unknown_keywords
@dataclass(kw_only=True)
class StreamConfigurationOptions:
    """How a stream behaves. Defaults are those of docs/PROTOCOL.md section 5; three differ from
    the official SDK 1.10's: `max_inflight_records` 50000 (1.10: 1000000), `recovery_retries` 3
    (1.10: 4) and `record_type` PROTO, reading the schema from Unity Catalog when the table
    properties carry no descriptor (1.10: UNSPECIFIED, i.e. JSON then). Pass
    ``max_inflight_records=1_000_000, recovery_retries=4, record_type=RecordType.JSON`` for 1.10's.
    Negative values are refused where 1.10 takes them as "no limit" (see `_integer`).

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
    - `record_type`: `RecordType.PROTO` (default), `JSON`, `AVRO`, or `UNSPECIFIED` (PROTO when
      the table properties carry a descriptor, JSON otherwise). Table properties with an
      `avro_schema` always make an AVRO stream (JSON with them is refused).
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
    - `dead_letters`: a file path or a callable taking a `DeadLetter`: records an ingest call
      refuses, and those left unacknowledged when the stream fails for good, go there instead
      of only raising (`zerobus.sdk.shared.dead_letters`). None: nothing is dead-lettered.
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
    dead_letters: DeadLetterTarget | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        """Every assignment is checked, in the constructor and after it."""
        check = _CHECKS.get(name)
        if check is None:
            raise UnknownOptionError(type(self).__name__, name, _CHECKS)
        object.__setattr__(self, name, check(name, value))

    @property
    def integer_units(self) -> IntegerUnits:
        """`timestamp_unit` and `date_unit`, as the record encoders take them."""
        return IntegerUnits(self.timestamp_unit, self.date_unit)

    def replace(self, **changes: Any) -> StreamConfigurationOptions:
        """A copy with some options changed (validated like the original)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return StreamConfigurationOptions(**{**values, **changes})


def _invalid(name: str, value: Any, reason: str) -> NoReturn:
    raise ConfigurationError(f"StreamConfigurationOptions.{name} {reason}, got {value!r}")


def _integer(minimum: int, optional: bool = False) -> Callable[[str, Any], Any]:
    """The check of an integer option (None allowed if `optional`).

    Negative values are refused, although the official SDK 1.10 takes them: it converts them to
    unsigned integers, so -1 silently means "no limit" (a flush that never times out, an
    unbounded in-flight window). Here no limit is never an accident.
    """

    def check(name: str, value: Any) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            _invalid(name, value, "must be an integer" + (" or None" if optional else ""))
        if value < minimum:
            _invalid(name, value, f"must be >= {minimum}")
        return value

    return check


def _recovery(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        _invalid(name, value, "must be True or False")
    return value


def _unit(units: tuple[str, ...]) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value is not None and value not in units:
            _invalid(name, value, f"must be one of {units} or None")
        return value

    return check


def _ack_callback(name: str, callback: Any) -> Any:
    if callback is not None:
        if isinstance(callback, type):
            _invalid(name, callback, "pass an instance of your AckCallback subclass, not the class")
        if not isinstance(callback, AckCallback) and not callable(callback):
            _invalid(name, callback, "must be an AckCallback instance or a callable")
    return callback


def _record_type(value: Any) -> RecordType:
    if isinstance(value, RecordType):
        return value
    if isinstance(value, str) and value.upper() in RecordType.__members__:
        return RecordType[value.upper()]
    values = {member.value for member in RecordType}
    if isinstance(value, int) and not isinstance(value, bool) and value in values:
        return RecordType(value)
    # The official core's RecordType objects carry an int `value`.
    inner = getattr(value, "value", None)
    if isinstance(inner, int) and inner in values:
        return RecordType(inner)
    _invalid(
        "record_type",
        value,
        "must be RecordType.PROTO, RecordType.JSON, RecordType.AVRO or RecordType.UNSPECIFIED",
    )


# One check per option; an option without one does not exist (`__setattr__`).
_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "max_inflight_records": _integer(1),
    "recovery": _recovery,
    "recovery_timeout_ms": _integer(1),
    "recovery_backoff_ms": _integer(0),
    "recovery_retries": _integer(0),
    "flush_timeout_ms": _integer(1),
    "server_lack_of_ack_timeout_ms": _integer(1),
    "ack_callback": _ack_callback,
    "record_type": lambda _name, value: _record_type(value),
    "stream_paused_max_wait_time_ms": _integer(0, optional=True),
    "callback_max_wait_time_ms": _integer(0, optional=True),
    "timestamp_unit": _unit(TIMESTAMP_UNITS),
    "date_unit": _unit(DATE_UNITS),
    "dead_letters": check_dead_letters,
}
