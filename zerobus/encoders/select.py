"""Choose a stream's encoder once, at `create_stream`, from its table properties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerobus.codegen.ir import TableSchema
from zerobus.codegen.time_units import AUTO_UNITS, IntegerUnits
from zerobus.encoders.base import RecordEncoder
from zerobus.encoders.descriptors import RecordSchema, record_schema_from_table, resolve_record_schema
from zerobus.encoders.json_records import JsonEncoder
from zerobus.encoders.proto import ProtoEncoder
from zerobus.protocol import RecordTypeValue

__all__ = ["choose_encoder", "resolve_record_type"]


def resolve_record_type(record_type: int, descriptor: Any) -> int:
    """UNSPECIFIED means: PROTO when the table properties carry a descriptor, JSON otherwise."""
    if record_type == RecordTypeValue.UNSPECIFIED:
        return RecordTypeValue.PROTO if descriptor is not None else RecordTypeValue.JSON
    return int(record_type)


def choose_encoder(
    descriptor: Any,
    record_type: int,
    fetch_schema: Callable[[], TableSchema] | None = None,
    units: IntegerUnits = AUTO_UNITS,
) -> RecordEncoder:
    """The encoder for a stream.

    PROTO streams with no descriptor call `fetch_schema()` (Unity Catalog) and build the
    descriptor at runtime; JSON streams never fetch anything and check records only when the
    descriptor brings a schema. `units`: the declared unit of TIMESTAMP and DATE integers.
    """
    kind = resolve_record_type(record_type, descriptor)
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
