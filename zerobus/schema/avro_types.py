"""Internal: A table's Avro writer schema: what an AVRO stream sends at creation (docs/PROTOCOL.md section 12).

The type contract of docs/PROTOCOL.md section 7 in Avro terms: TINYINT/SMALLINT/INT `int`, BIGINT
`long`, FLOAT `float`, DOUBLE `double`, BOOLEAN `boolean`, BINARY `bytes`, the string family and
VARIANT (JSON text) `string`, DATE `int` + logicalType `date` (days), TIMESTAMP `long` +
`timestamp-micros`, TIMESTAMP_NTZ `long` + `local-timestamp-micros`, DECIMAL(p,s) `bytes` +
logicalType `decimal` with the column's precision and scale, ARRAY `array` (no null items), MAP
`map` (Avro map keys are strings: integral and boolean keys travel as their text, ``"7"``,
``"true"``), STRUCT a nested `record`. Nullable columns and struct members are unions
``["null", T]`` with default null; NOT NULL columns are plain `T`.

Pure data out of the IR: no fastavro needed to produce it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from zerobus.errors import SchemaError
from zerobus.schema.delta_types_table import DELTA_TYPES, parametric_type
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)
from zerobus.schema.proto_layout import pascal_case

__all__ = ["avro_schema", "avro_schema_text"]

_AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Names:
    """Record names must be unique in one Avro schema: a second `Address` becomes `Address2`."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        name, suffix = wanted, 2
        while name in self._taken:
            name, suffix = f"{wanted}{suffix}", suffix + 1
        self._taken.add(name)
        return name


def _checked_name(name: str, path: str) -> str:
    if not _AVRO_NAME.match(name):
        raise SchemaError(
            f"name {name!r} is not a valid Avro name (letters, digits and underscore, not starting "
            "with a digit)",
            path,
        )
    return name


def _avro_type(data_type: DataType, path: str, names: _Names) -> Any:
    if isinstance(data_type, PrimitiveType):
        return DELTA_TYPES[data_type.primitive].avro
    if isinstance(data_type, StringType):
        return parametric_type(data_type).avro_type
    if isinstance(data_type, DecimalType):
        return {
            "type": parametric_type(data_type).avro_type,
            "logicalType": "decimal",
            "precision": data_type.precision,
            "scale": data_type.scale,
        }
    if isinstance(data_type, ArrayType):
        return {"type": "array", "items": _avro_type(data_type.element, f"{path}[]", names)}
    if isinstance(data_type, MapType):
        return {"type": "map", "values": _avro_type(data_type.value, f"{path}[]", names)}
    record_name = names.claim(pascal_case(path.rsplit(".", 1)[-1].rstrip("[]")) or "Struct")
    return _record(record_name, data_type, path, names)


def _field(field: StructField, path: str, names: _Names) -> dict[str, Any]:
    field_type = _avro_type(field.type, path, names)
    if field.nullable:
        return {"name": _checked_name(field.name, path), "type": ["null", field_type], "default": None}
    return {"name": _checked_name(field.name, path), "type": field_type}


def _record(name: str, struct: StructType, path: str, names: _Names) -> dict[str, Any]:
    fields = [_field(f, f"{path}.{f.name}" if path else f.name, names) for f in struct.fields]
    return {"type": "record", "name": _checked_name(name, path or name), "fields": fields}


def avro_schema(schema: TableSchema, record_name: str | None = None) -> dict[str, Any]:
    """The Avro writer schema (as JSON data) of a table's rows; `record_name` defaults to the table's."""
    names = _Names()
    name = names.claim(record_name or schema.short_name)
    return _record(name, schema.as_struct(), "", names)


def avro_schema_text(schema: TableSchema, record_name: str | None = None) -> str:
    """`avro_schema` as JSON text (what `TableProperties(table, avro_schema=...)` takes)."""
    return json.dumps(avro_schema(schema, record_name), indent=2) + "\n"
