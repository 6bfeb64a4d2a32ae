"""Internal: Wire values -> Python values (dates, datetimes, Decimals, bytes), for reading records back.

The reverse of `python_to_wire`: the local server materialises rows with it and `RecordCodec`
reads records back with it. It converts without checking: checking wire values is `wire_checks`' job.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Mapping
from typing import Any

from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.epoch import days_to_date, micros_to_datetime
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    PrimitiveType,
    StringType,
    StructField,
    TableSchema,
)
from zerobus.schema.scalar_values import Converter
from zerobus.schema.wire_checks import json_key_parser

__all__ = ["from_wire", "row_from_wire"]


def from_wire(data_type: DataType, json_mode: bool = False) -> Converter:
    """Compile a converter from wire values to Python values (dates, datetimes, Decimals...)."""
    if isinstance(data_type, PrimitiveType):
        row = DELTA_TYPES[data_type.primitive]
        if row.kind is ValueKind.DATE:
            return days_to_date
        if row.kind is ValueKind.TIMESTAMP and row.timezone_aware:
            return micros_to_datetime
        if row.kind is ValueKind.TIMESTAMP:
            return lambda micros: micros_to_datetime(micros, aware=False)
        if row.kind is ValueKind.BINARY and json_mode:
            return base64.b64decode
        if row.kind is ValueKind.BINARY:
            return bytes
        return _identity
    if isinstance(data_type, DecimalType):
        return decimal.Decimal
    if isinstance(data_type, StringType):
        return _identity
    if isinstance(data_type, ArrayType):
        element = from_wire(data_type.element, json_mode)
        return lambda items: [element(item) for item in items]
    if isinstance(data_type, MapType):
        key = from_wire(data_type.key, json_mode)
        value = from_wire(data_type.value, json_mode)
        if json_mode:
            key_parser = json_key_parser(data_type.key, "")
            return lambda items: {key(key_parser(k)): value(v) for k, v in items.items()}
        return lambda items: {key(k): value(v) for k, v in items.items()}
    return _fields_from_wire(data_type.fields, json_mode)


def _fields_from_wire(fields: tuple[StructField, ...], json_mode: bool) -> Converter:
    converters = {f.name: from_wire(f.type, json_mode) for f in fields}

    def convert(value: Mapping[str, Any]) -> dict[str, Any]:
        return {
            name: None if value.get(name) is None else conv(value[name]) for name, conv in converters.items()
        }

    return convert


def row_from_wire(schema: TableSchema, json_mode: bool = False) -> Converter:
    """Compile a converter from a wire row (dict) to a row of Python values, every column present."""
    return _fields_from_wire(schema.as_struct().fields, json_mode)


def _identity(value: Any) -> Any:
    return value
