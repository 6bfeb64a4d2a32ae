"""Internal: DATE and TIMESTAMP values on the wire: counts from the Unix epoch (docs/PROTOCOL.md section 7).

A DATE travels as days since 1970-01-01 and a TIMESTAMP / TIMESTAMP_NTZ as microseconds since
1970-01-01 00:00 (UTC for the aware one, wall clock for the naive one). The SDK's encoders, the
generated models and the local server all turn dates and datetimes into these counts and back here.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "EPOCH",
    "EPOCH_DATE",
    "EPOCH_NAIVE",
    "date_to_days",
    "datetime_to_micros",
    "days_to_date",
    "micros_to_datetime",
]


EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_ONE_MICRO = dt.timedelta(microseconds=1)


def date_to_days(value: dt.date) -> int:
    """DATE on the wire: days since 1970-01-01."""
    return (value - EPOCH_DATE).days


def datetime_to_micros(value: dt.datetime) -> int:
    """TIMESTAMP (aware: UTC instant) or TIMESTAMP_NTZ (naive: wall clock) on the wire: microseconds."""
    epoch = EPOCH_NAIVE if value.tzinfo is None or value.utcoffset() is None else EPOCH
    return (value - epoch) // _ONE_MICRO


def days_to_date(days: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=days)


def micros_to_datetime(micros: int, aware: bool = True) -> dt.datetime:
    return (EPOCH if aware else EPOCH_NAIVE) + dt.timedelta(microseconds=micros)
