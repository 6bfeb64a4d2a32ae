"""Internal: The integer-unit rule (`codegen.time_units`) applied to rows already in wire shape: parsed JSON text.

Dicts of Python values get the rule inside `python_to_wire.to_wire`. JSON text the SDK is given is
already shaped like the wire (day counts, integer timestamps, base64, decimal text), so it is
not converted as a whole; only its TIMESTAMP and DATE integers are, by the declared unit or the
automatic check, before the wire check validates the rest. Anything that is not an integer where
one is expected is left for that check to explain.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.delta_types_table import DELTA_TYPES, WireUnit
from zerobus.schema.ir import ArrayType, DataType, MapType, Primitive, PrimitiveType, StructType, TableSchema
from zerobus.schema.time_units import IntegerUnits, date_int_to_days, timestamp_int_to_micros

__all__ = ["row_units_converter"]

Converter = Callable[[Any], Any]
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def row_units_converter(schema: TableSchema, units: IntegerUnits) -> Converter | None:
    """Compile: wire row -> the same row with TIMESTAMP/DATE integers in wire units (None: no such columns).

    The row is returned as it is (the same object) when no value changed.
    """
    return _converter(schema.as_struct(), "", units)


def _converter(data_type: DataType, path: str, units: IntegerUnits) -> Converter | None:
    if isinstance(data_type, PrimitiveType):
        return _scalar(data_type.primitive, path, units)
    if isinstance(data_type, ArrayType):
        return _array(data_type, path, units)
    if isinstance(data_type, MapType):
        return _map(data_type, path, units)
    if isinstance(data_type, StructType):
        return _struct(data_type, path, units)
    return None


def _scalar(primitive: Primitive, path: str, units: IntegerUnits) -> Converter | None:
    unit = DELTA_TYPES[primitive].wire_unit
    if unit is WireUnit.MICROS:
        to_wire_int = timestamp_int_to_micros(units.timestamp, primitive.name, path)
    elif unit is WireUnit.DAYS:
        to_wire_int = date_int_to_days(units.date, path)
    else:
        return None

    def convert(value: Any) -> Any:
        return to_wire_int(value) if type(value) is int else value

    return convert


def _reindexed(error: InvalidRecordError, template: str, concrete: str) -> InvalidRecordError:
    return InvalidRecordError(
        error.field.replace(template, concrete, 1), error.value, error.reason, error.cause
    )


def _array(array_type: ArrayType, path: str, units: IntegerUnits) -> Converter | None:
    template = f"{path}[]"
    element = _converter(array_type.element, template, units)
    if element is None:
        return None

    def convert(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = value
        for index, item in enumerate(value):
            try:
                wire = element(item)
            except InvalidRecordError as error:
                raise _reindexed(error, template, f"{path}[{index}]") from None
            if wire is not item:
                out = list(value) if out is value else out
                out[index] = wire
        return out

    return convert


def _map(map_type: MapType, path: str, units: IntegerUnits) -> Converter | None:
    template, key_template = f"{path}[]", f"{path}{{key}}"
    element = _converter(map_type.value, template, units)
    key_int = _converter(map_type.key, key_template, units)
    if element is None and key_int is None:
        return None

    def convert_key(key: Any) -> Any:
        """JSON object keys are text: a TIMESTAMP or DATE key is an integer spelt as text."""
        if key_int is None or not isinstance(key, str) or not _INTEGER_TEXT.fullmatch(key):
            return key
        try:
            wire = key_int(int(key))
        except InvalidRecordError as error:
            raise _reindexed(error, key_template, f"{path}{{{key!r}}}") from None
        return key if wire == int(key) else str(wire)

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        pairs, changed = [], False
        for key, item in value.items():
            wire_key = convert_key(key)
            try:
                wire = element(item) if element is not None else item
            except InvalidRecordError as error:
                raise _reindexed(error, template, f"{path}[{key!r}]") from None
            changed = changed or wire is not item or wire_key is not key
            pairs.append((wire_key, wire))
        return dict(pairs) if changed else value

    return convert


def _struct(struct_type: StructType, path: str, units: IntegerUnits) -> Converter | None:
    fields: dict[str, Converter] = {}
    for field in struct_type.fields:
        convert_field = _converter(field.type, f"{path}.{field.name}" if path else field.name, units)
        if convert_field is not None:
            fields[field.name] = convert_field
    if not fields:
        return None
    items = tuple(fields.items())

    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] | None = None
        for name, convert_field in items:
            item = value.get(name)
            if item is None:
                continue
            wire = convert_field(item)
            if wire is not item:
                out = dict(value) if out is None else out
                out[name] = wire
        return value if out is None else out

    return convert
