"""Internal: Choose a stream's encoder once, at `create_stream`, from its table properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerobus.encoders.avro_records import AvroEncoder
from zerobus.encoders.base import RecordEncoder
from zerobus.encoders.json_records import JsonEncoder
from zerobus.encoders.proto import ProtoEncoder
from zerobus.encoders.record_schemas import RecordSchema, record_schema_from_table, resolve_record_schema
from zerobus.errors import ConfigurationError
from zerobus.protocol import RecordTypeValue
from zerobus.schema.ir import TableSchema
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits

__all__ = ["choose_encoder", "resolve_record_type"]


def resolve_record_type(record_type: int, descriptor: Any, avro_schema: str | None = None) -> int:
    """UNSPECIFIED means: PROTO when the table properties carry a descriptor, JSON otherwise.

    An Avro schema in the table properties selects AVRO: PROTO, the options' default, gives way
    to it; JSON is a contradiction and is refused."""
    if avro_schema is not None:
        if record_type == RecordTypeValue.JSON:
            raise ConfigurationError(
                "record_type JSON does not match the table properties: they carry an avro_schema, "
                "which selects RecordType.AVRO"
            )
        return RecordTypeValue.AVRO
    if record_type == RecordTypeValue.UNSPECIFIED:
        return RecordTypeValue.PROTO if descriptor is not None else RecordTypeValue.JSON
    return int(record_type)


def choose_encoder(
    descriptor: Any,
    record_type: int,
    fetch_schema: Callable[[], TableSchema] | None = None,
    units: IntegerUnits = AUTO_UNITS,
    avro_schema: str | None = None,
) -> RecordEncoder:
    """The encoder for a stream.

    PROTO streams with no descriptor call `fetch_schema()` (Unity Catalog) and build the
    descriptor at runtime; JSON streams never fetch anything and check records only when the
    descriptor brings a schema. AVRO streams use `avro_schema`, else the writer schema of the
    descriptor's table, else of the Unity Catalog table (`fetch_schema()`).
    `units`: the declared unit of TIMESTAMP and DATE integers.
    """
    kind = resolve_record_type(record_type, descriptor, avro_schema)
    if kind == RecordTypeValue.AVRO:
        return _avro_encoder(descriptor, avro_schema, fetch_schema, units)
    schema: RecordSchema | None = resolve_record_schema(descriptor)
    if kind == RecordTypeValue.JSON:
        if schema is None:
            return JsonEncoder()
        table_schema = schema.table_schema if schema.delta_types else None
        return JsonEncoder(table_schema, schema.model_class, units)
    if schema is None:
        if fetch_schema is None:
            raise ValueError("a PROTO stream without a descriptor needs the table schema from Unity Catalog")
        schema = record_schema_from_table(fetch_schema())
    return ProtoEncoder(schema, units)


def _avro_encoder(
    descriptor: Any,
    avro_schema: str | None,
    fetch_schema: Callable[[], TableSchema] | None,
    units: IntegerUnits,
) -> AvroEncoder:
    if avro_schema is not None:
        return AvroEncoder(avro_schema, units=units)
    schema = resolve_record_schema(descriptor)
    if schema is not None:
        if not schema.delta_types or schema.table_schema is None:
            raise ConfigurationError(
                "an AVRO stream cannot take its writer schema from a compiled protobuf descriptor (it "
                "does not say the Delta types); pass TableProperties(table, avro_schema=...) or a TableSchema"
            )
        return AvroEncoder(schema.table_schema.avro_schema(), schema.table_schema, units)
    if fetch_schema is None:
        raise ConfigurationError(
            "an AVRO stream needs TableProperties(table, avro_schema=...) or the table schema from Unity Catalog"
        )
    table = fetch_schema()
    return AvroEncoder(table.avro_schema(), table, units)
