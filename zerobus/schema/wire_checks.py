"""Internal: Checks of values already in wire form: the local server's reference (docs/PROTOCOL.md section 7).

`wire_check(type)` validates what a decoded proto field or a parsed JSON record holds: narrow-int
ranges, decimal text, JSON text, date and timestamp ranges, VARCHAR lengths, no null elements. It
is None when the wire type alone guarantees validity. The server's batch fast paths must agree with
it. Failures are `InvalidRecordError`s naming the field path, the value and the reason.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Mapping
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text, float_for_decimal, parse_decimal
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructType,
    TableSchema,
)
from zerobus.schema.python_to_wire import reindex, to_wire
from zerobus.schema.scalar_values import (
    Check,
    Converter,
    check_json_text,
    float_to_wire,
    int_to_wire,
    not_text,
    string_to_wire,
)
from zerobus.schema.time_units import IntegerUnits
from zerobus.schema.typemap import INT_RANGES

__all__ = ["json_key_parser", "wire_check", "wire_row_check"]

# Integers that are wire values already (read back from records): no unit guessing.
WIRE_UNITS = IntegerUnits(timestamp="us", date="days")
_JSON_INT_KEY = re.compile("[+-]?[0-9]+")


def wire_check(data_type: DataType, path: str = "", json_mode: bool = False) -> Check | None:
    """Compile a validator for a wire value of `data_type`; None if the wire type suffices.

    In proto mode the caller has decoded the record with the matching descriptor, so scalar
    types are already right and only value constraints are checked. In JSON mode every type is
    checked, because JSON text carries no schema.
    """
    if isinstance(data_type, PrimitiveType):
        return _primitive_check(data_type.primitive, path, json_mode)
    if isinstance(data_type, StringType):
        # Also in proto mode: upb returns bytes for a proto2 string field that is not UTF-8.
        return _as_check(string_to_wire(data_type, path))
    if isinstance(data_type, DecimalType):

        def check_decimal(value: Any) -> None:
            if isinstance(value, float):
                raise InvalidRecordError(
                    path, value, float_for_decimal(data_type.type_text, json_record=json_mode)
                )
            if not isinstance(value, str):
                reason = f"{data_type.type_text} takes decimal text, got {type(value).__name__}"
                raise InvalidRecordError(path, value, not_text(value, reason))
            decimal_text(parse_decimal(value, data_type, path), data_type, path)

        return check_decimal
    if isinstance(data_type, ArrayType):
        return _array_check(data_type, path, json_mode)
    if isinstance(data_type, MapType):
        return _map_check(data_type, path, json_mode)
    return _fields_check(data_type, path, json_mode)


def _as_check(convert: Converter) -> Check:
    def check(value: Any) -> None:
        convert(value)

    return check


def _primitive_check(primitive: Primitive, path: str, json_mode: bool) -> Check | None:
    row = DELTA_TYPES[primitive]
    if row.kind is ValueKind.INTEGER and row.range_checked:
        return _as_check(int_to_wire(primitive, path))
    if row.wire_unit is not None and row.wire_range is not None:
        low, high = row.wire_range
        return _ranged_int_check(path, low, high, f"{row.wire_unit.value} ({primitive.name})")
    if row.kind is ValueKind.VARIANT:

        def check_variant(value: Any) -> None:
            if not isinstance(value, str):
                reason = f"VARIANT takes JSON text, got {type(value).__name__}"
                raise InvalidRecordError(path, value, not_text(value, reason))
            check_json_text(value, path)

        return check_variant
    if row.kind is ValueKind.FLOATING and json_mode:
        return _json_number_check(primitive, path)
    if not json_mode:
        return None
    if row.kind is ValueKind.BINARY:

        def check_base64(value: Any) -> None:
            if not isinstance(value, str):
                raise InvalidRecordError(
                    path, value, f"BINARY takes base64 text in JSON records, got {type(value).__name__}"
                )
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidRecordError(path, value, "not valid base64 for BINARY") from None

        return check_base64
    return _as_check(to_wire(PrimitiveType(primitive), path, json_mode))


def _json_number_check(primitive: Primitive, path: str) -> Check:
    """A JSON number for FLOAT/DOUBLE: finite (NaN and Infinity are not JSON; 1e999 overflows)."""
    convert = float_to_wire(primitive, path)

    def check(value: Any) -> None:
        number = convert(value)
        if not math.isfinite(number):
            if math.isnan(number):
                raise InvalidRecordError(path, value, "NaN is not a JSON number")
            reason = f"Infinity is not a JSON number (or the number is out of range for {primitive.name})"
            raise InvalidRecordError(path, value, reason)

    return check


def _ranged_int_check(path: str, low: int, high: int, what: str) -> Check:
    def check(value: Any) -> None:
        if type(value) is not int:
            raise InvalidRecordError(path, value, f"expected an integer: {what}")
        if not low <= value <= high:
            raise InvalidRecordError(path, value, f"{what} out of range [{low}, {high}]")

    return check


def _array_check(array_type: ArrayType, path: str, json_mode: bool) -> Check | None:
    template = f"{path}[]"
    element = wire_check(array_type.element, template, json_mode)
    if element is None and not json_mode:
        return None

    def check(value: Any) -> None:
        if not isinstance(value, (list, tuple)) and not (hasattr(value, "__len__") and not json_mode):
            raise InvalidRecordError(
                path, value, f"expected a list for {array_type.type_text}, got {type(value).__name__}"
            )
        for index, item in enumerate(value):
            if item is None:
                raise InvalidRecordError(f"{path}[{index}]", item, "arrays cannot hold null elements")
            if element is not None:
                try:
                    element(item)
                except InvalidRecordError as error:
                    raise reindex(error, template, f"{path}[{index}]") from None

    return check


def _map_check(map_type: MapType, path: str, json_mode: bool) -> Check | None:
    value_template = f"{path}[]"
    value_check = wire_check(map_type.value, value_template, json_mode)
    key_template = f"{path}{{key}}"
    key_check: Check | None
    if json_mode:
        # JSON object keys are always text; they must spell a value of the key type.
        key_convert = json_key_parser(map_type.key, key_template)
        key_check = _as_check(key_convert)
    else:
        key_check = wire_check(map_type.key, key_template, json_mode)
    if value_check is None and key_check is None:
        return None

    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise InvalidRecordError(
                path, value, f"expected an object for {map_type.type_text}, got {type(value).__name__}"
            )
        for key, item in value.items():
            if key_check is not None:
                try:
                    key_check(key)
                except InvalidRecordError as error:
                    raise reindex(error, key_template, f"{path}{{{key!r}}}") from None
            if item is None:
                raise InvalidRecordError(f"{path}[{key!r}]", item, "map values cannot be null")
            if value_check is not None:
                try:
                    value_check(item)
                except InvalidRecordError as error:
                    raise reindex(error, value_template, f"{path}[{key!r}]") from None

    return check


def json_key_parser(key_type: DataType, path: str) -> Converter:
    """JSON map keys arrive as strings: parse them to the key type's wire value."""
    if isinstance(key_type, PrimitiveType) and key_type.primitive in INT_RANGES:
        to_int = to_wire(key_type, path, units=WIRE_UNITS)  # keys on the wire: days, microseconds

        def parse_int(key: Any) -> int:
            # int() alone would also take " 7", "1_000" and non-ASCII digits: a different key.
            if not isinstance(key, str) or _JSON_INT_KEY.fullmatch(key) is None:
                raise InvalidRecordError(path, key, f"map key is not an integer for {key_type.type_text}")
            return int(to_int(int(key)))

        return parse_int
    if isinstance(key_type, PrimitiveType) and DELTA_TYPES[key_type.primitive].kind is ValueKind.BOOLEAN:

        def parse_bool(key: Any) -> bool:
            if key not in ("true", "false"):
                raise InvalidRecordError(path, key, "map key is not 'true' or 'false' for boolean")
            return bool(key == "true")

        return parse_bool
    return to_wire(key_type, path, json_mode=True)


def _fields_check(struct_type: StructType, path: str, json_mode: bool) -> Check | None:
    checks = {
        f.name: (wire_check(f.type, f"{path}.{f.name}" if path else f.name, json_mode), f.nullable)
        for f in struct_type.fields
    }
    required = [f.name for f in struct_type.fields if not f.nullable]
    if not json_mode and not required and all(c is None for c, _ in checks.values()):
        return None

    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise InvalidRecordError(
                path, value, f"expected an object for a struct, got {type(value).__name__}"
            )
        for name, item in value.items():
            entry = checks.get(name)
            if entry is None:
                raise InvalidRecordError(
                    f"{path}.{name}" if path else name, item, f"unknown field; expected {sorted(checks)}"
                )
            if item is None:
                if not entry[1]:
                    raise InvalidRecordError(
                        f"{path}.{name}" if path else name, item, "NOT NULL field is null"
                    )
                continue
            if entry[0] is not None:
                entry[0](item)
        for name in required:
            if value.get(name) is None:
                raise InvalidRecordError(
                    f"{path}.{name}" if path else name, None, "NOT NULL field is missing"
                )

    return check


def wire_row_check(schema: TableSchema, json_mode: bool = False) -> Check | None:
    """Compile a validator for a whole row in wire form (a dict keyed by column name)."""
    return _fields_check(schema.as_struct(), "", json_mode)
