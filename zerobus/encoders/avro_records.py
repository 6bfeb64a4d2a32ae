"""Internal: AVRO records: dicts, Pydantic models or pre-encoded bytes -> Avro binary (docs/PROTOCOL.md section 12).

The writer schema (JSON text) travels once, in `create_stream`; each record travels as the Avro
binary encoding of one datum of it (no container header, no schema fingerprint). Dicts and
models are checked by `avro_values` (precise errors, nothing coerced silently) and encoded with
fastavro; bytes are taken as already encoded. fastavro is imported when the encoder is built,
never by ``import zerobus.sdk.sync``; a stream that only sends bytes does not need it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from zerobus.encoders.avro_table_checks import table_datum_check
from zerobus.encoders.avro_values import compile_record_converter, without_logical_types
from zerobus.encoders.base import Payload, RecordEncoder
from zerobus.errors import ConfigurationError, InvalidRecordError
from zerobus.protocol import AvroEncodedRecord, RecordTypeValue
from zerobus.schema.ir import TableSchema
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits

__all__ = ["AvroEncoder", "check_avro_schema_text"]

_INSTALL_HINT = "pip install 'zerobus-toolkit[avro]'"


def check_avro_schema_text(schema_text: Any) -> dict[str, Any]:
    """The writer schema as JSON data; refuses what cannot be an AVRO stream's schema (no fastavro needed)."""
    if not isinstance(schema_text, str):
        raise TypeError(
            f"TableProperties.avro_schema must be JSON text (str), got {type(schema_text).__name__}"
        )
    try:
        schema = json.loads(schema_text)
    except ValueError as error:
        raise ConfigurationError(f"TableProperties.avro_schema is not JSON text: {error}") from None
    if not isinstance(schema, dict) or schema.get("type") != "record":
        shown = schema.get("type") if isinstance(schema, dict) else type(schema).__name__
        raise ConfigurationError(
            f"TableProperties.avro_schema must be an Avro record schema (a table row), got {shown!r}"
        )
    return schema


def _fastavro() -> Any:
    try:
        import fastavro
    except ImportError:
        return None
    return fastavro


class AvroEncoder(RecordEncoder):
    """Encodes a stream's records against its Avro writer schema."""

    record_type = RecordTypeValue.AVRO

    def __init__(
        self, schema_text: str, table: TableSchema | None = None, units: IntegerUnits = AUTO_UNITS
    ) -> None:
        """`table`: the table `schema_text` was derived from, if known (adds `avro_table_checks`);
        `units`: the declared unit of DATE and TIMESTAMP integers (`avro_values`)."""
        self._units = units
        schema = check_avro_schema_text(schema_text)
        self._table_check = table_datum_check(table) if table is not None else None
        self.avro_schema: str | None = schema_text
        self._schema = schema
        self._write: Callable[[dict[str, Any]], bytes] | None = None
        self._convert: Callable[[Any], dict[str, Any]] | None = None
        if _fastavro() is not None:
            self._prepare()  # a schema fastavro refuses fails create_stream, not the first record
        self.encode = self.encode_record

    def _prepare(self) -> None:
        fastavro = _fastavro()
        if fastavro is None:
            raise ConfigurationError(
                f"encoding dicts and models for an AVRO stream needs fastavro: {_INSTALL_HINT} "
                "(pre-encoded Avro bytes do not)"
            )
        try:
            parsed = fastavro.parse_schema(without_logical_types(self._schema))
            fastavro.parse_schema(self._schema)
        except Exception as error:  # fastavro raises several types for a bad schema
            raise ConfigurationError(
                f"TableProperties.avro_schema is not a valid Avro schema: {error}"
            ) from None
        writer = fastavro.schemaless_writer

        def write(datum: dict[str, Any]) -> bytes:
            out = io.BytesIO()
            writer(out, parsed, datum)
            return out.getvalue()

        convert = compile_record_converter(self._schema, self._units)
        table_check = self._table_check
        if table_check is not None:

            def convert_and_check(record: Any) -> dict[str, Any]:
                datum = convert(record)
                table_check(datum)
                return datum

            self._convert = convert_and_check
        else:
            self._convert = convert
        self._write = write

    def encode_many(self, records: Iterable[Any]) -> tuple[list[Payload], int]:
        if isinstance(records, Mapping):
            raise InvalidRecordError("", records, "the batch API takes a list of records, got one dict")
        return super().encode_many(records)

    def encode_record(self, record: Any) -> AvroEncodedRecord:
        """One record as Avro bytes; raises `InvalidRecordError` naming the field, value and reason."""
        if isinstance(record, (bytes, bytearray, memoryview)):
            return AvroEncodedRecord(record)
        if isinstance(record, str):
            raise InvalidRecordError(
                "", record, "an AVRO stream takes a dict, a Pydantic model or Avro-encoded bytes, got str"
            )
        if self._convert is None or self._write is None:
            self._prepare()
        assert self._convert is not None and self._write is not None
        return AvroEncodedRecord(self._write(self._convert(record)))
