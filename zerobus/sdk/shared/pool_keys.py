"""Internal: Keyed routing of a stream pool: which stream a record's key belongs to, the same in every process.

A key is read from the record (a field name, or a callable given the record), turned into
canonical bytes, hashed with BLAKE2b (Python's own `hash()` of a str changes between processes),
and mapped to a stream with jump consistent hashing (Lamping and Veach, 2014). Values Python
treats as equal (``1``, ``1.0``, ``True``, ``Decimal(1)``; one instant in two time zones) give
the same bytes, so they always reach the same stream.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from zerobus.errors import ConfigurationError, InvalidRecordError

__all__ = ["KeySpec", "jump_hash", "key_bytes", "key_reader", "refuse_keyed_arrow", "stable_key_hash"]

KeySpec = str | Callable[[Any], Any]

_MASK64 = (1 << 64) - 1


def key_reader(key: KeySpec) -> Callable[[Any], Any]:
    """The function reading a record's key: `key` itself if callable, else a reader of that field."""
    if callable(key):
        return key
    if isinstance(key, str) and key:
        return _field_reader(key)
    raise ConfigurationError(f"key must be a field name or a callable taking the record, got {key!r}")


def _field_reader(name: str) -> Callable[[Any], Any]:
    def read(record: Any) -> Any:
        if isinstance(record, str):  # JSON text: the field of the object it holds
            try:
                record = json.loads(record)
            except ValueError as error:
                raise InvalidRecordError(
                    name, record, f"the pool's key field cannot be read: {error}"
                ) from None
        if isinstance(record, Mapping):
            if name not in record:
                raise InvalidRecordError(name, record, "the pool's key field is missing from the record")
            return record[name]
        if isinstance(record, (bytes, bytearray, memoryview)):
            raise InvalidRecordError(
                name,
                bytes(record[:16]),
                "the pool cannot read a key field from encoded bytes; pass key=<callable> instead",
            )
        try:
            return getattr(record, name)
        except AttributeError:
            raise InvalidRecordError(
                name, record, f"the pool's key field is not an attribute of {type(record).__name__}"
            ) from None

    return read


def key_bytes(value: Any, field: str = "key") -> bytes:
    """Canonical bytes of a key value: equal values give equal bytes, in every process."""
    if value is None:
        return b"n"
    if isinstance(value, (bool, int)):
        return b"i" + str(int(value)).encode()
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"b" + bytes(value)
    if isinstance(value, float):
        if value.is_integer():
            return b"i" + str(int(value)).encode()
        return b"d" + repr(value).encode()
    if isinstance(value, decimal.Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return b"i" + str(int(value)).encode()
        if value.is_finite() and float(value) == value:  # equal to a float: hash like that float
            return b"d" + repr(float(value)).encode()
        return b"m" + str(value.normalize()).encode()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            return b"Z" + value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat().encode()
        return b"T" + value.isoformat().encode()
    if isinstance(value, (dt.date, dt.time)):
        return b"D" + type(value).__name__.encode() + value.isoformat().encode()
    if isinstance(value, uuid.UUID):
        return b"u" + value.bytes
    if isinstance(value, tuple):
        parts = [key_bytes(item, field) for item in value]
        return b"(" + b"".join(len(part).to_bytes(4, "big") + part for part in parts)
    raise InvalidRecordError(
        field,
        value,
        f"a pool key of type {type(value).__name__} has no stable hash; use str, int, bytes, float, "
        "Decimal, date/time, UUID, None or a tuple of those",
    )


def stable_key_hash(value: Any, field: str = "key") -> int:
    """A 64-bit hash of the key value that is the same in every process and on every machine."""
    digest = hashlib.blake2b(key_bytes(value, field), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def jump_hash(key: int, buckets: int) -> int:
    """Jump consistent hash: the bucket in [0, buckets) of a 64-bit key."""
    if buckets < 1:
        raise ValueError(f"buckets must be >= 1, got {buckets}")
    bucket, candidate = -1, 0
    while candidate < buckets:
        bucket = candidate
        key = (key * 2862933555777941757 + 1) & _MASK64
        candidate = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


def refuse_keyed_arrow(keyed: bool) -> None:
    """`ingest_arrow` on a pool sends each submission of rows to one stream: it cannot route by key."""
    if keyed:
        raise ConfigurationError(
            "ingest_arrow needs a pool without key=: its rows go to streams in whole submissions, "
            "not one by one by key; use a pool without key, or ingest_records_offset for keyed rows"
        )
