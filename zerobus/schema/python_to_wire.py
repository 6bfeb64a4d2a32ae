"""Internal: Python values -> wire values for any column type, nested to any depth (docs/PROTOCOL.md section 7).

`to_wire(type)` compiles a converter once per type: a Python value (``date``, aware ``datetime``,
``Decimal``, ``bytes``, nested lists/dicts or models...) becomes what a proto field or a JSON
record carries (days, microseconds, decimal text, base64 for JSON binary). The SDK's dict encoder
and the generated models use it. Scalars come from `scalar_values` and `decimal_values`; this module
adds arrays, maps and structs, whose failures name the full path (``loc.lat``, ``items[3].x``,
``tags['k']``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_to_wire
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
from zerobus.schema.scalar_values import Converter, primitive_to_wire, string_to_wire
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits

__all__ = ["reindex", "row_to_wire", "to_wire"]


def reindex(error: InvalidRecordError, template: str, concrete: str) -> InvalidRecordError:
    """Put the concrete index into a path compiled with a placeholder (``a[]`` -> ``a[3]``)."""
    field = error.field.replace(template, concrete, 1)
    return InvalidRecordError(field, error.value, error.reason, error.cause)


def _array_to_wire(array_type: ArrayType, path: str, json_mode: bool, units: IntegerUnits) -> Converter:
    template = f"{path}[]"
    element = to_wire(array_type.element, template, json_mode, units)

    def convert(value: Any) -> list[Any]:
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise InvalidRecordError(
                path, value, f"expected a list for {array_type.type_text}, got {type(value).__name__}"
            )
        out = []
        for index, item in enumerate(value):
            if item is None:
                raise InvalidRecordError(f"{path}[{index}]", item, "arrays cannot hold null elements")
            try:
                out.append(element(item))
            except InvalidRecordError as error:
                raise reindex(error, template, f"{path}[{index}]") from None
        return out

    return convert


def _map_to_wire(map_type: MapType, path: str, json_mode: bool, units: IntegerUnits) -> Converter:
    key_template, value_template = f"{path}{{key}}", f"{path}[]"
    key_convert = to_wire(map_type.key, key_template, json_mode, units)
    value_convert = to_wire(map_type.value, value_template, json_mode, units)

    def convert(value: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise InvalidRecordError(
                path, value, f"expected a dict for {map_type.type_text}, got {type(value).__name__}"
            )
        out = {}
        for key, item in value.items():
            if key is None:
                raise InvalidRecordError(path, value, "map keys cannot be null")
            if item is None:
                raise InvalidRecordError(f"{path}[{key!r}]", item, "map values cannot be null")
            try:
                wire_key = key_convert(key)
            except InvalidRecordError as error:
                raise reindex(error, key_template, f"{path}{{{key!r}}}") from None
            try:
                out[wire_key] = value_convert(item)
            except InvalidRecordError as error:
                raise reindex(error, value_template, f"{path}[{key!r}]") from None
        return out

    return convert


def _fields_to_wire(
    fields: tuple[StructField, ...], path: str, json_mode: bool, kind: str, units: IntegerUnits
) -> Converter:
    """dict (or model/object with those attributes) -> dict of wire values, nulls dropped."""
    converters = {
        f.name: (to_wire(f.type, f"{path}.{f.name}" if path else f.name, json_mode, units), f.nullable)
        for f in fields
    }
    required = [f.name for f in fields if not f.nullable]

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            dump = getattr(value, "model_dump", None)
            if dump is None:
                raise InvalidRecordError(
                    path, value, f"expected a dict for {kind}, got {type(value).__name__}"
                )
            value = dump(by_alias=True)  # column names, also for renamed (aliased) fields
        out = {}
        for name, item in value.items():
            entry = converters.get(name)
            if entry is None:
                field_path = f"{path}.{name}" if path else str(name)
                raise InvalidRecordError(field_path, item, f"unknown field; {kind} has {sorted(converters)}")
            if item is None:
                if not entry[1]:
                    raise InvalidRecordError(
                        f"{path}.{name}" if path else name, item, "NOT NULL field is null"
                    )
                continue
            out[name] = entry[0](item)
        for name in required:
            if name not in out:
                raise InvalidRecordError(
                    f"{path}.{name}" if path else name, None, "NOT NULL field is missing"
                )
        return out

    return convert


def to_wire(
    data_type: DataType, path: str = "", json_mode: bool = False, units: IntegerUnits = AUTO_UNITS
) -> Converter:
    """Compile a converter from Python values to wire values for `data_type` (see module doc).

    `units`: the declared unit of integers given for TIMESTAMP and DATE (`codegen.time_units`);
    by default an integer of another unit's typical magnitude is refused.
    """
    if isinstance(data_type, PrimitiveType):
        return primitive_to_wire(data_type.primitive, path, json_mode, units)
    if isinstance(data_type, StringType):
        return string_to_wire(data_type, path)
    if isinstance(data_type, DecimalType):
        return decimal_to_wire(data_type, path)
    if isinstance(data_type, ArrayType):
        return _array_to_wire(data_type, path, json_mode, units)
    if isinstance(data_type, MapType):
        return _map_to_wire(data_type, path, json_mode, units)
    return _fields_to_wire(data_type.fields, path, json_mode, "struct", units)


def row_to_wire(schema: TableSchema, json_mode: bool = False, units: IntegerUnits = AUTO_UNITS) -> Converter:
    """Compile a converter for a whole row (a dict keyed by column name); `units` as in `to_wire`."""
    return _fields_to_wire(schema.as_struct().fields, "", json_mode, f"table {schema.name}", units)
