"""Internal: What every record encoder offers, and how records of each shape are recognised.

An encoder is chosen once per stream (`zerobus.encoders.choose_encoder`) and turns the user's
record into the payload the wire carries: protobuf bytes for PROTO streams, JSON text for JSON
streams, Avro binary for AVRO streams. `encode` is on the hot path of every ingest call, so it is a plain attribute holding a
compiled closure, not a method that dispatches on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.ir import TableSchema

__all__ = [
    "EncodedRecords",
    "Payload",
    "RecordEncoder",
    "is_model_class",
    "is_model_instance",
    "is_pydantic_instance",
]

Payload = bytes | str


class EncodedRecords(list):  # type: ignore[type-arg]
    """Records already encoded for the stream (by `ingest_arrow`), with their total size.

    `encode_many` passes them through as they are, so they take the batch API's path.
    """

    __slots__ = ("nbytes",)

    def __init__(self, payloads: list[Payload], nbytes: int) -> None:
        super().__init__(payloads)
        self.nbytes = nbytes


class RecordEncoder:
    """Encodes records for one stream; `encode(record) -> payload` raises `InvalidRecordError`."""

    record_type: int
    descriptor_proto: bytes | None = None
    avro_schema: str | None = None  # an AVRO stream's writer schema (JSON text)
    schema: TableSchema | None = None
    encode: Callable[[Any], Payload]
    # Records of exactly this type are encoded by `direct_encode` on the per-record ingest path
    # (a PROTO stream's own message class and its unbound SerializeToString, which skips the
    # attribute lookup of `record.SerializeToString()`); None when there is no such shortcut.
    direct_class: type | None = None
    direct_encode: Callable[[Any], Payload] | None = None

    def encode_many(self, records: Iterable[Any]) -> tuple[list[Payload], int]:
        """Encode a batch; returns the payloads and their total size in len() units."""
        if type(records) is EncodedRecords:
            return records, records.nbytes
        encode = self.encode
        if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
            raise InvalidRecordError(
                "", records, f"the batch API takes a list of records, got {type(records).__name__}"
            )
        direct = self.direct_encode
        if direct is not None:
            if not isinstance(records, (list, tuple)):
                records = list(records)
            try:
                # All of the stream's own messages (the usual batch): one C-level pass.
                payloads = list(map(direct, records))
            except Exception:  # another shape in the batch, or a refused message: explain each
                payloads = [encode(record) for record in records]
        else:
            payloads = [encode(record) for record in records]
        return payloads, sum(map(len, payloads))


def is_model_class(value: Any) -> bool:
    """A generated Pydantic model class (a `ZerobusModel` subclass: it knows its table schema)."""
    return isinstance(value, type) and callable(getattr(value, "zerobus_schema", None))


def is_model_instance(value: Any) -> bool:
    return callable(getattr(type(value), "zerobus_schema", None)) and hasattr(value, "to_proto_bytes")


def is_pydantic_instance(value: Any) -> bool:
    return callable(getattr(value, "model_dump", None)) and hasattr(type(value), "model_fields")
