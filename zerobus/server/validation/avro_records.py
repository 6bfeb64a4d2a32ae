"""Internal: AVRO records: Avro binary of the stream's writer schema -> a wire row (docs/PROTOCOL.md section 12).

The writer schema was checked against the table when the stream was created (`avro_checks`);
each record is decoded with it and checked like a PROTO record's row, so an AVRO record is
refused for the same reasons, with the same "Error code 4044" and the same field paths.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.ir import TableSchema
from zerobus.schema.wire_checks import wire_row_check
from zerobus.server.storage.frames import KIND_AVRO, descriptor_key, frame_prefix
from zerobus.server.validation.avro_checks import AvroSchemaError, AvroStreamSchema, compile_avro_schema
from zerobus.server.validation.records import StreamRecordCodec

__all__ = ["AvroRecordCodec", "AvroUnavailable", "avro_stream_codec"]


class AvroRecordCodec(StreamRecordCodec):
    """Records of one writer schema, read as wire rows and checked against the table."""

    record_field = "avro_encoded_record"
    batch_field = "avro_encoded_batch"
    format_name = "AVRO"

    def __init__(self, schema: TableSchema, stream_schema: AvroStreamSchema) -> None:
        self._read = stream_schema.read
        self._row_check = wire_row_check(schema, json_mode=False)

    def to_row(self, record: Any) -> dict[str, Any]:
        return self._read(bytes(record))

    def check(self, payload: Any) -> None:
        self.reference_check(payload)

    def reference_check(self, payload: Any) -> None:
        row = self.to_row(payload)
        if self._row_check is not None:
            try:
                self._row_check(row)
            except ArithmeticError as error:
                raise InvalidRecordError("", row, f"a value cannot be checked: {error!r}") from None


class AvroUnavailable(Exception):
    """The server cannot read Avro records: fastavro is not installed."""


def avro_stream_codec(schema_text: str, table: TableSchema) -> tuple[AvroRecordCodec, bytes, bytes]:
    """The codec, frame prefix and persisted schema of an AVRO stream; raises `AvroSchemaError`
    when the writer schema does not fit the table, `AvroUnavailable` without fastavro."""
    if importlib.util.find_spec("fastavro") is None:
        raise AvroUnavailable("this server cannot read AVRO records: pip install 'zerobus-toolkit[avro]'")
    if not schema_text:
        raise AvroSchemaError("an AVRO stream needs avro_schema (the writer schema, JSON text)")
    codec = AvroRecordCodec(table, compile_avro_schema(schema_text, table))
    schema_bytes = schema_text.encode("utf-8")
    return codec, frame_prefix(KIND_AVRO, descriptor_key(schema_bytes)), schema_bytes
