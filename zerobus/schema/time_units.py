"""Internal: Integers given for TIMESTAMP and DATE columns: which unit they are in, and catching the wrong one.

On the wire a TIMESTAMP is microseconds since the epoch and a DATE is days since 1970-01-01
(docs/PROTOCOL.md section 7). An integer in another unit is still a valid wire value, just a wrong
one (epoch seconds land in January 1970), so an integer whose magnitude is typical of another
unit is refused, naming the unit it looks like and the fix, unless the caller declared the
unit of its integers (`IntegerUnits`): then they are converted instead.

The automatic rule, for integers whose unit is not declared:

- TIMESTAMP / TIMESTAMP_NTZ, read as microseconds: ``|v| < 10**11`` looks like seconds,
  ``10**11 <= |v| < 10**13`` like milliseconds, ``|v| >= 10**17`` like nanoseconds. Accepted:
  every instant from year 0001 to 1969-09-07 and from 1970-04-26 to year 5138.
- DATE, read as days: every day count of years 0001-9999 is accepted; a larger integer is
  refused as out of range, saying whether it looks like seconds, milliseconds or microseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from zerobus.errors import InvalidRecordError

__all__ = [
    "AUTO_UNITS",
    "DATE_UNITS",
    "MILLIS_BELOW",
    "NANOS_FROM",
    "SECONDS_BELOW",
    "TIMESTAMP_UNITS",
    "DateUnit",
    "IntegerUnits",
    "TimestampUnit",
    "date_int_to_days",
    "looks_like",
    "timestamp_int_to_micros",
]

TimestampUnit = Literal["s", "ms", "us", "ns"]
DateUnit = Literal["days", "s", "ms"]
TIMESTAMP_UNITS: tuple[str, ...] = get_args(TimestampUnit)
DATE_UNITS: tuple[str, ...] = get_args(DateUnit)

# Bounds of the automatic rule (see the module docstring).
SECONDS_BELOW = 10**11
MILLIS_BELOW = 10**13
NANOS_FROM = 10**17
_DAY_S = 86_400
_MICROS_PER: dict[str, int] = {"s": 1_000_000, "ms": 1_000, "us": 1}
_UNIT_NAMES = {
    "s": "epoch seconds",
    "ms": "epoch milliseconds",
    "us": "epoch microseconds",
    "ns": "epoch nanoseconds",
}
_MULTIPLY = {"s": "multiply by 1_000_000", "ms": "multiply by 1_000", "ns": "divide by 1_000"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MIN_MICROS = (dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc) - _EPOCH) // dt.timedelta(microseconds=1)
_MAX_MICROS = (
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc) - _EPOCH
) // dt.timedelta(microseconds=1)
_MIN_DAYS = (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).days
_MAX_DAYS = (dt.date(9999, 12, 31) - dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class IntegerUnits:
    """The declared unit of integers given for TIMESTAMP and DATE columns; None: the automatic rule.

    `timestamp`: 's', 'ms', 'us' or 'ns' ('us' is the wire unit: it accepts every integer in
    range, turning the automatic check off). `date`: 'days' (the wire unit, same), 's' or 'ms'
    (a whole number of days since the epoch, i.e. UTC midnight).
    """

    timestamp: TimestampUnit | None = None
    date: DateUnit | None = None

    def __post_init__(self) -> None:
        if self.timestamp is not None and self.timestamp not in TIMESTAMP_UNITS:
            raise ValueError(
                f"timestamp unit must be one of {TIMESTAMP_UNITS} or None, got {self.timestamp!r}"
            )
        if self.date is not None and self.date not in DATE_UNITS:
            raise ValueError(f"date unit must be one of {DATE_UNITS} or None, got {self.date!r}")


AUTO_UNITS = IntegerUnits()


def looks_like(value: int) -> str:
    """The unit a timestamp integer's magnitude suggests: 's', 'ms', 'us' or 'ns'."""
    size = abs(value)
    if size < SECONDS_BELOW:
        return "s"
    if size < MILLIS_BELOW:
        return "ms"
    if size >= NANOS_FROM:
        return "ns"
    return "us"


def _instant(micros: int) -> str:
    """The instant `micros` stands for, as ISO text (or a note when no datetime can show it)."""
    if not _MIN_MICROS <= micros <= _MAX_MICROS:
        return "outside years 0001-9999"
    shown = _EPOCH + dt.timedelta(microseconds=micros)
    return shown.isoformat(timespec="seconds").replace("+00:00", "Z")


def _as_micros(value: int, unit: str) -> int:
    if unit == "us":
        return value  # the same object: callers tell "unchanged" by identity
    return value // 1_000 if unit == "ns" else value * _MICROS_PER[unit]


def timestamp_int_to_micros(
    unit: TimestampUnit | None, primitive_name: str, path: str
) -> Callable[[int], int]:
    """Compile: an integer for a TIMESTAMP(_NTZ) column -> microseconds, by `unit` or the automatic rule."""

    def out_of_range(value: int) -> InvalidRecordError:
        return InvalidRecordError(
            path,
            value,
            f"{primitive_name} out of range for years 0001-9999 (read as {_UNIT_NAMES[unit or 'us']})",
        )

    if unit is not None:
        scale_unit: str = unit

        def declared(value: int) -> int:
            if scale_unit == "ns" and value % 1_000:
                raise InvalidRecordError(
                    path,
                    value,
                    f"nanoseconds below a microsecond would be lost: {primitive_name} holds microseconds",
                )
            micros = _as_micros(value, scale_unit)
            if not _MIN_MICROS <= micros <= _MAX_MICROS:
                raise out_of_range(value)
            return micros

        return declared

    def automatic(value: int) -> int:
        seen = looks_like(value)
        if seen != "us":
            raise InvalidRecordError(
                path,
                value,
                f"looks like {_UNIT_NAMES[seen]} ({_instant(_as_micros(value, seen))}); {primitive_name} "
                f"integers are microseconds since the epoch: pass a datetime, {_MULTIPLY[seen]}, or declare "
                f"timestamp_unit='{seen}' (StreamConfigurationOptions); timestamp_unit='us' accepts any integer",
            )
        if not _MIN_MICROS <= value <= _MAX_MICROS:
            raise out_of_range(value)
        return value

    return automatic


def date_int_to_days(unit: DateUnit | None, path: str) -> Callable[[int], int]:
    """Compile: an integer for a DATE column -> days since 1970-01-01, by `unit` or the automatic rule."""
    if unit in ("s", "ms"):
        per_day = _DAY_S * (1_000 if unit == "ms" else 1)
        name = _UNIT_NAMES[unit]

        def declared(value: int) -> int:
            days, rest = divmod(value, per_day)
            if rest:
                raise InvalidRecordError(
                    path,
                    value,
                    f"{name} not at UTC midnight: a DATE holds no time of day (use .date() first)",
                )
            if not _MIN_DAYS <= days <= _MAX_DAYS:
                raise InvalidRecordError(
                    path, value, f"DATE out of range for years 0001-9999 (read as {name})"
                )
            return days

        return declared

    def days(value: int) -> int:
        if _MIN_DAYS <= value <= _MAX_DAYS:
            return value
        if unit is None:
            seen = looks_like(value)
            if seen in ("s", "ms"):
                day = _instant(_as_micros(value, seen)).split("T")[0]
                raise InvalidRecordError(
                    path,
                    value,
                    f"looks like {_UNIT_NAMES[seen]} ({day}); DATE integers "
                    f"are days since 1970-01-01: pass a date, or declare date_unit='{seen}' (StreamConfigurationOptions)",
                )
        raise InvalidRecordError(
            path, value, f"days since 1970-01-01 out of range [{_MIN_DAYS}, {_MAX_DAYS}] for DATE"
        )

    return days
