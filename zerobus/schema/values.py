"""Values on the wire (docs/PROTOCOL.md section 7), converted and checked in one place.

Three directions, each compiled once per type into a closure so the per-record cost is a few
function calls:

- `to_wire(type)`: a Python value (``date``, aware ``datetime``, ``Decimal``, ``bytes``, nested
  lists/dicts...) -> the value a proto field or JSON record carries (days, microseconds, decimal
  text, base64 for JSON binary). Used by the SDK's dict encoder and the generated models.
- `wire_check(type)`: validates a value already in wire form (what a decoded proto field or a
  parsed JSON record holds): narrow-int ranges, decimal text, JSON text, date and timestamp
  ranges, VARCHAR lengths, no null elements. Used by the local server. None when the wire type
  alone guarantees validity.
- `from_wire(type)`: wire value -> Python value (for reading back and materialising).

Every failure is an `InvalidRecordError` naming the field path (``loc.lat``, ``items[3].x``,
``tags['k']``), the value and the reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.json_depth import rendered_depth_problem
from zerobus.schema.delta_types_table import (
    DELTA_TYPES,
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_MICROS,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_MICROS,
    ValueKind,
)
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits, date_int_to_days, timestamp_int_to_micros
from zerobus.schema.typemap import INT_RANGES
from zerobus.schema.unicode_text import has_lone_surrogate, json_text_problem, text_problem

__all__ = [
    "MAX_DATE_DAYS",
    "MAX_TIMESTAMP_MICROS",
    "MIN_DATE_DAYS",
    "MIN_TIMESTAMP_MICROS",
    "Converter",
    "date_to_days",
    "datetime_to_micros",
    "days_to_date",
    "decimal_text",
    "float_for_decimal",
    "from_wire",
    "micros_to_datetime",
    "row_from_wire",
    "row_to_wire",
    "to_wire",
    "wire_check",
    "wire_row_check",
]

Converter = Callable[[Any], Any]
Check = Callable[[Any], None]

EPOCH_DATE = dt.date(1970, 1, 1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_ONE_MICRO = dt.timedelta(microseconds=1)
_FLOAT32_MAX = 3.4028234663852886e38
# Integers that are wire values already (read back from records): no unit guessing.
WIRE_UNITS = IntegerUnits(timestamp="us", date="days")
_JSON_INT_KEY = re.compile("[+-]?[0-9]+")


def _fail(path: str, value: Any, reason: str) -> InvalidRecordError:
    return InvalidRecordError(path, value, reason)


# --- scalar conversions -------------------------------------------------------------------------


def _int_to_wire(primitive: Primitive, path: str) -> Converter:
    low, high = INT_RANGES[primitive]
    name = primitive.name

    def convert(value: Any) -> int:
        if type(value) is not int:
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise _fail(path, value, f"expected an integer for {name}, got {type(value).__name__}")
            value = value.__index__()
        if not low <= value <= high:
            raise _fail(path, value, f"out of range for {name} [{low}, {high}]")
        return int(value)

    return convert


def _float_to_wire(primitive: Primitive, path: str) -> Converter:
    is_float32 = DELTA_TYPES[primitive].float32

    def convert(value: Any) -> float:
        if type(value) is not float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _fail(
                    path, value, f"expected a number for {primitive.name}, got {type(value).__name__}"
                )
            try:
                value = float(value)
            except OverflowError:
                raise _fail(path, value, f"out of range for {primitive.name}") from None
        if is_float32 and math.isfinite(value) and abs(value) > _FLOAT32_MAX:
            raise _fail(path, value, "out of range for FLOAT (32-bit)")
        return float(value)

    return convert


def _bool_to_wire(path: str) -> Converter:
    def convert(value: Any) -> bool:
        if type(value) is not bool:
            raise _fail(path, value, f"expected a boolean, got {type(value).__name__}")
        return value

    return convert


def _string_to_wire(string_type: StringType, path: str) -> Converter:
    length = string_type.length

    def convert(value: Any) -> str:
        if type(value) is not str:
            if not isinstance(value, str):
                raise _fail(path, value, _not_text(value, f"expected a string, got {type(value).__name__}"))
            value = str(value)
        if has_lone_surrogate(value):
            raise _fail(path, value, str(text_problem(value)))
        if length is not None and len(value) > length:
            raise _fail(path, value, f"longer than {string_type.type_text} allows ({len(value)} > {length})")
        return str(value)

    return convert


def _not_text(value: Any, otherwise: str) -> str:
    """The reason a non-`str` value is refused where text belongs (undecodable proto2 strings are bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return text_problem(bytes(value)) or otherwise
    return otherwise


def _binary_to_wire(path: str, json_mode: bool) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise _fail(path, value, f"expected bytes for BINARY, got {type(value).__name__}")
        raw = bytes(value)
        return base64.b64encode(raw).decode("ascii") if json_mode else raw

    return convert


def decimal_text(value: decimal.Decimal, decimal_type: DecimalType, path: str = "") -> str:
    """Canonical decimal text with exactly `scale` fractional digits (``Decimal('12.3')`` -> ``'12.30'``)."""
    if not value.is_finite():
        raise _fail(path, value, f"{decimal_type.type_text} cannot hold {value}")
    precision, scale = decimal_type.precision, decimal_type.scale
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if exponent == -scale and len(digits) <= precision:
        return format(value, "f")  # already canonical: the common case, and cheaper than quantizing
    if -exponent > scale:
        # Trailing zeros beyond the scale lose nothing; anything else would be silently rounded.
        normalized_exponent = value.normalize(_DECIMAL_CONTEXT).as_tuple().exponent
        assert isinstance(normalized_exponent, int)
        if -normalized_exponent > scale:
            raise _fail(
                path, value, f"has {-exponent} fractional digits; {decimal_type.type_text} allows {scale}"
            )
    integer_digits = value.adjusted() + 1 if value else 0
    if integer_digits > precision - scale:
        raise _fail(
            path,
            value,
            f"needs {integer_digits} integer digits; {decimal_type.type_text} allows {precision - scale}",
        )
    # At most `precision` digits now, so quantizing neither rounds nor overflows the context.
    return format(value.quantize(decimal.Decimal(1).scaleb(-scale), context=_DECIMAL_CONTEXT), "f")


_DECIMAL_CONTEXT = decimal.Context(prec=80)


def float_for_decimal(type_text: str, json_record: bool = False) -> str:
    """Why a float is refused for a DECIMAL column, everywhere (SDK, models, the local server).

    A float is binary: 0.1 is really 0.1000000000000000055511151231257827..., so turning it
    into decimal text means guessing which decimal was meant. The caller knows; it says so.
    """
    fix = (
        'write the number as a JSON string ("12.30")'
        if json_record
        else "pass decimal.Decimal(str(x)), a str, or an int"
    )
    return f"a float cannot be given for {type_text}: floats are binary (0.1 is really 0.1000000000000000055511...); {fix}"


def _decimal_to_wire(decimal_type: DecimalType, path: str) -> Converter:
    def convert(value: Any) -> str:
        if isinstance(value, decimal.Decimal):
            number = value
        elif isinstance(value, bool):
            raise _fail(path, value, f"expected a decimal for {decimal_type.type_text}, got bool")
        elif isinstance(value, int):
            number = decimal.Decimal(value)
        elif isinstance(value, float):
            raise _fail(path, value, float_for_decimal(decimal_type.type_text))
        elif isinstance(value, str):
            number = _parse_decimal(value, decimal_type, path)
        else:
            raise _fail(
                path, value, f"expected a decimal for {decimal_type.type_text}, got {type(value).__name__}"
            )
        return decimal_text(number, decimal_type, path)

    return convert


def _parse_decimal(text: str, decimal_type: DecimalType, path: str) -> decimal.Decimal:
    try:
        number = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise _fail(path, text, f"not a decimal number for {decimal_type.type_text}") from None
    if not number.is_finite():
        raise _fail(path, text, f"{decimal_type.type_text} cannot hold {text}")
    return number


def _date_to_wire(path: str, units: IntegerUnits) -> Converter:
    int_to_days = date_int_to_days(units.date, path)

    def convert(value: Any) -> int:
        if isinstance(value, dt.datetime):
            raise _fail(path, value, "expected a date for DATE, got a datetime (use .date())")
        if isinstance(value, dt.date):
            return date_to_days(value)
        if isinstance(value, str):
            try:
                return date_to_days(dt.date.fromisoformat(value))
            except ValueError:
                raise _fail(path, value, "not an ISO date (YYYY-MM-DD)") from None
        if isinstance(value, int) and not isinstance(value, bool):
            return int_to_days(int(value))
        raise _fail(path, value, f"expected a date or days since 1970-01-01, got {type(value).__name__}")

    return convert


def _timestamp_to_wire(primitive: Primitive, path: str, units: IntegerUnits) -> Converter:
    ntz = not DELTA_TYPES[primitive].timezone_aware
    int_to_micros = timestamp_int_to_micros(units.timestamp, primitive.name, path)

    def from_datetime(value: dt.datetime, original: Any) -> int:
        if ntz:
            if value.tzinfo is not None:
                raise _fail(
                    path, original, "TIMESTAMP_NTZ takes a naive (wall-clock) datetime, got an aware one"
                )
            return datetime_to_micros(value)
        if value.tzinfo is None or value.utcoffset() is None:
            raise _fail(
                path,
                original,
                "TIMESTAMP needs a timezone-aware datetime (e.g. tzinfo=datetime.timezone.utc)",
            )
        return datetime_to_micros(value)

    def convert(value: Any) -> int:
        if isinstance(value, dt.datetime):
            return from_datetime(value, value)
        if isinstance(value, str):
            text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                raise _fail(path, value, "not an ISO-8601 timestamp") from None
            return from_datetime(parsed, value)
        if isinstance(value, int) and not isinstance(value, bool):
            return int_to_micros(int(value))
        if isinstance(value, dt.date):
            raise _fail(path, value, f"expected a datetime for {primitive.name}, got a date")
        raise _fail(
            path, value, f"expected a datetime or microseconds since the epoch, got {type(value).__name__}"
        )

    return convert


def _variant_to_wire(path: str) -> Converter:
    def convert(value: Any) -> str:
        if isinstance(value, str):
            _check_json_text(value, path)
            return value
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise _fail(path, value, f"VARIANT value is not JSON-serialisable: {error}") from None
        except RecursionError:
            text = None
        problem = rendered_depth_problem(value, text)
        if problem is not None:
            raise _fail(path, value, f"VARIANT value is {problem}")
        assert text is not None
        return text

    return convert


def _check_json_text(text: str, path: str) -> None:
    problem = json_text_problem(text)
    if problem is not None:
        raise _fail(path, text, f"VARIANT takes JSON text: {problem}")


# --- nested conversions -------------------------------------------------------------------------


def _reindex(error: InvalidRecordError, template: str, concrete: str) -> InvalidRecordError:
    """Put the concrete index into a path compiled with a placeholder (``a[]`` -> ``a[3]``)."""
    field = error.field.replace(template, concrete, 1)
    return InvalidRecordError(field, error.value, error.reason, error.cause)


def _array_to_wire(array_type: ArrayType, path: str, json_mode: bool, units: IntegerUnits) -> Converter:
    template = f"{path}[]"
    element = to_wire(array_type.element, template, json_mode, units)

    def convert(value: Any) -> list[Any]:
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise _fail(
                path, value, f"expected a list for {array_type.type_text}, got {type(value).__name__}"
            )
        out = []
        for index, item in enumerate(value):
            if item is None:
                raise _fail(f"{path}[{index}]", item, "arrays cannot hold null elements")
            try:
                out.append(element(item))
            except InvalidRecordError as error:
                raise _reindex(error, template, f"{path}[{index}]") from None
        return out

    return convert


def _map_to_wire(map_type: MapType, path: str, json_mode: bool, units: IntegerUnits) -> Converter:
    key_template, value_template = f"{path}{{key}}", f"{path}[]"
    key_convert = to_wire(map_type.key, key_template, json_mode, units)
    value_convert = to_wire(map_type.value, value_template, json_mode, units)

    def convert(value: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise _fail(path, value, f"expected a dict for {map_type.type_text}, got {type(value).__name__}")
        out = {}
        for key, item in value.items():
            if key is None:
                raise _fail(path, value, "map keys cannot be null")
            if item is None:
                raise _fail(f"{path}[{key!r}]", item, "map values cannot be null")
            try:
                wire_key = key_convert(key)
            except InvalidRecordError as error:
                raise _reindex(error, key_template, f"{path}{{{key!r}}}") from None
            try:
                out[wire_key] = value_convert(item)
            except InvalidRecordError as error:
                raise _reindex(error, value_template, f"{path}[{key!r}]") from None
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
                raise _fail(path, value, f"expected a dict for {kind}, got {type(value).__name__}")
            value = dump(by_alias=True)  # column names, also for renamed (aliased) fields
        out = {}
        for name, item in value.items():
            entry = converters.get(name)
            if entry is None:
                field_path = f"{path}.{name}" if path else str(name)
                raise _fail(field_path, item, f"unknown field; {kind} has {sorted(converters)}")
            if item is None:
                if not entry[1]:
                    raise _fail(f"{path}.{name}" if path else name, item, "NOT NULL field is null")
                continue
            out[name] = entry[0](item)
        for name in required:
            if name not in out:
                raise _fail(f"{path}.{name}" if path else name, None, "NOT NULL field is missing")
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
        primitive = data_type.primitive
        kind = DELTA_TYPES[primitive].kind
        if kind is ValueKind.INTEGER:
            return _int_to_wire(primitive, path)
        if kind is ValueKind.FLOATING:
            return _float_to_wire(primitive, path)
        if kind is ValueKind.BOOLEAN:
            return _bool_to_wire(path)
        if kind is ValueKind.BINARY:
            return _binary_to_wire(path, json_mode)
        if kind is ValueKind.DATE:
            return _date_to_wire(path, units)
        if kind is ValueKind.TIMESTAMP:
            return _timestamp_to_wire(primitive, path, units)
        if kind is ValueKind.VARIANT:
            return _variant_to_wire(path)
        raise TypeError(f"no converter for value kind {kind.name} of {primitive.name}")
    if isinstance(data_type, StringType):
        return _string_to_wire(data_type, path)
    if isinstance(data_type, DecimalType):
        return _decimal_to_wire(data_type, path)
    if isinstance(data_type, ArrayType):
        return _array_to_wire(data_type, path, json_mode, units)
    if isinstance(data_type, MapType):
        return _map_to_wire(data_type, path, json_mode, units)
    return _fields_to_wire(data_type.fields, path, json_mode, "struct", units)


def row_to_wire(schema: TableSchema, json_mode: bool = False, units: IntegerUnits = AUTO_UNITS) -> Converter:
    """Compile a converter for a whole row (a dict keyed by column name); `units` as in `to_wire`."""
    return _fields_to_wire(schema.as_struct().fields, "", json_mode, f"table {schema.name}", units)


# --- checks of values already in wire form (server side) ---------------------------------------


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
        return _as_check(_string_to_wire(data_type, path))
    if isinstance(data_type, DecimalType):

        def check_decimal(value: Any) -> None:
            if isinstance(value, float):
                raise _fail(path, value, float_for_decimal(data_type.type_text, json_record=json_mode))
            if not isinstance(value, str):
                reason = f"{data_type.type_text} takes decimal text, got {type(value).__name__}"
                raise _fail(path, value, _not_text(value, reason))
            decimal_text(_parse_decimal(value, data_type, path), data_type, path)

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
        return _as_check(_int_to_wire(primitive, path))
    if row.wire_unit is not None and row.wire_range is not None:
        low, high = row.wire_range
        return _ranged_int_check(path, low, high, f"{row.wire_unit.value} ({primitive.name})")
    if row.kind is ValueKind.VARIANT:

        def check_variant(value: Any) -> None:
            if not isinstance(value, str):
                reason = f"VARIANT takes JSON text, got {type(value).__name__}"
                raise _fail(path, value, _not_text(value, reason))
            _check_json_text(value, path)

        return check_variant
    if row.kind is ValueKind.FLOATING and json_mode:
        return _json_number_check(primitive, path)
    if not json_mode:
        return None
    if row.kind is ValueKind.BINARY:

        def check_base64(value: Any) -> None:
            if not isinstance(value, str):
                raise _fail(
                    path, value, f"BINARY takes base64 text in JSON records, got {type(value).__name__}"
                )
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _fail(path, value, "not valid base64 for BINARY") from None

        return check_base64
    return _as_check(to_wire(PrimitiveType(primitive), path, json_mode))


def _json_number_check(primitive: Primitive, path: str) -> Check:
    """A JSON number for FLOAT/DOUBLE: finite (NaN and Infinity are not JSON; 1e999 overflows)."""
    convert = _float_to_wire(primitive, path)

    def check(value: Any) -> None:
        number = convert(value)
        if not math.isfinite(number):
            if math.isnan(number):
                raise _fail(path, value, "NaN is not a JSON number")
            reason = f"Infinity is not a JSON number (or the number is out of range for {primitive.name})"
            raise _fail(path, value, reason)

    return check


def _ranged_int_check(path: str, low: int, high: int, what: str) -> Check:
    def check(value: Any) -> None:
        if type(value) is not int:
            raise _fail(path, value, f"expected an integer: {what}")
        if not low <= value <= high:
            raise _fail(path, value, f"{what} out of range [{low}, {high}]")

    return check


def _array_check(array_type: ArrayType, path: str, json_mode: bool) -> Check | None:
    template = f"{path}[]"
    element = wire_check(array_type.element, template, json_mode)
    if element is None and not json_mode:
        return None

    def check(value: Any) -> None:
        if not isinstance(value, (list, tuple)) and not (hasattr(value, "__len__") and not json_mode):
            raise _fail(
                path, value, f"expected a list for {array_type.type_text}, got {type(value).__name__}"
            )
        for index, item in enumerate(value):
            if item is None:
                raise _fail(f"{path}[{index}]", item, "arrays cannot hold null elements")
            if element is not None:
                try:
                    element(item)
                except InvalidRecordError as error:
                    raise _reindex(error, template, f"{path}[{index}]") from None

    return check


def _map_check(map_type: MapType, path: str, json_mode: bool) -> Check | None:
    value_template = f"{path}[]"
    value_check = wire_check(map_type.value, value_template, json_mode)
    key_template = f"{path}{{key}}"
    key_check: Check | None
    if json_mode:
        # JSON object keys are always text; they must spell a value of the key type.
        key_convert = _json_key_parser(map_type.key, key_template)
        key_check = _as_check(key_convert)
    else:
        key_check = wire_check(map_type.key, key_template, json_mode)
    if value_check is None and key_check is None:
        return None

    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise _fail(
                path, value, f"expected an object for {map_type.type_text}, got {type(value).__name__}"
            )
        for key, item in value.items():
            if key_check is not None:
                try:
                    key_check(key)
                except InvalidRecordError as error:
                    raise _reindex(error, key_template, f"{path}{{{key!r}}}") from None
            if item is None:
                raise _fail(f"{path}[{key!r}]", item, "map values cannot be null")
            if value_check is not None:
                try:
                    value_check(item)
                except InvalidRecordError as error:
                    raise _reindex(error, value_template, f"{path}[{key!r}]") from None

    return check


def _json_key_parser(key_type: DataType, path: str) -> Converter:
    """JSON map keys arrive as strings: parse them to the key type's wire value."""
    if isinstance(key_type, PrimitiveType) and key_type.primitive in INT_RANGES:
        to_int = to_wire(key_type, path, units=WIRE_UNITS)  # keys on the wire: days, microseconds

        def parse_int(key: Any) -> int:
            # int() alone would also take " 7", "1_000" and non-ASCII digits: a different key.
            if not isinstance(key, str) or _JSON_INT_KEY.fullmatch(key) is None:
                raise _fail(path, key, f"map key is not an integer for {key_type.type_text}")
            return int(to_int(int(key)))

        return parse_int
    if isinstance(key_type, PrimitiveType) and DELTA_TYPES[key_type.primitive].kind is ValueKind.BOOLEAN:

        def parse_bool(key: Any) -> bool:
            if key not in ("true", "false"):
                raise _fail(path, key, "map key is not 'true' or 'false' for boolean")
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
            raise _fail(path, value, f"expected an object for a struct, got {type(value).__name__}")
        for name, item in value.items():
            entry = checks.get(name)
            if entry is None:
                raise _fail(
                    f"{path}.{name}" if path else name, item, f"unknown field; expected {sorted(checks)}"
                )
            if item is None:
                if not entry[1]:
                    raise _fail(f"{path}.{name}" if path else name, item, "NOT NULL field is null")
                continue
            if entry[0] is not None:
                entry[0](item)
        for name in required:
            if value.get(name) is None:
                raise _fail(f"{path}.{name}" if path else name, None, "NOT NULL field is missing")

    return check


def wire_row_check(schema: TableSchema, json_mode: bool = False) -> Check | None:
    """Compile a validator for a whole row in wire form (a dict keyed by column name)."""
    return _fields_check(schema.as_struct(), "", json_mode)


# --- wire -> Python -----------------------------------------------------------------------------


def date_to_days(value: dt.date) -> int:
    """DATE on the wire: days since 1970-01-01."""
    return (value - EPOCH_DATE).days


def datetime_to_micros(value: dt.datetime) -> int:
    """TIMESTAMP (aware: UTC instant) or TIMESTAMP_NTZ (naive: wall clock) on the wire: microseconds."""
    epoch = EPOCH_NAIVE if value.tzinfo is None or value.utcoffset() is None else EPOCH
    return (value - epoch) // _ONE_MICRO


def days_to_date(days: int) -> dt.date:
    return EPOCH_DATE + dt.timedelta(days=days)


def micros_to_datetime(micros: int, aware: bool = True) -> dt.datetime:
    return (EPOCH if aware else EPOCH_NAIVE) + dt.timedelta(microseconds=micros)


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
            key_parser = _json_key_parser(data_type.key, "")
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
