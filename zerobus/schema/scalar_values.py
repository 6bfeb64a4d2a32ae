"""Internal: Python values of the primitive Delta types -> wire values, each checked (docs/PROTOCOL.md section 7).

One converter per value kind of the type table (integers, floats, booleans, text, binary, dates,
timestamps, VARIANT), compiled once per column into a closure. `python_to_wire` puts them together
for nested types and whole rows; `wire_checks` reuses them where the local server checks values.
Every failure is an `InvalidRecordError` naming the field path, the value and the reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.json_depth import rendered_depth_problem
from zerobus.schema.delta_types_table import DELTA_TYPES, FLOAT32_MAX, ValueKind
from zerobus.schema.epoch import date_to_days, datetime_to_micros
from zerobus.schema.ir import Primitive, StringType
from zerobus.schema.time_units import IntegerUnits, date_int_to_days, timestamp_int_to_micros
from zerobus.schema.typemap import INT_RANGES
from zerobus.schema.unicode_text import has_lone_surrogate, json_text_problem, text_problem

__all__ = [
    "Check",
    "Converter",
    "check_json_text",
    "float_to_wire",
    "int_to_wire",
    "not_text",
    "primitive_to_wire",
    "string_to_wire",
]


Converter = Callable[[Any], Any]
Check = Callable[[Any], None]


def primitive_to_wire(primitive: Primitive, path: str, json_mode: bool, units: IntegerUnits) -> Converter:
    """The converter for one primitive type, chosen by the value kind its table row names."""
    kind = DELTA_TYPES[primitive].kind
    if kind is ValueKind.INTEGER:
        return int_to_wire(primitive, path)
    if kind is ValueKind.FLOATING:
        return float_to_wire(primitive, path)
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


def int_to_wire(primitive: Primitive, path: str) -> Converter:
    low, high = INT_RANGES[primitive]
    name = primitive.name

    def convert(value: Any) -> int:
        if type(value) is not int:
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise InvalidRecordError(
                    path, value, f"expected an integer for {name}, got {type(value).__name__}"
                )
            value = value.__index__()
        if not low <= value <= high:
            raise InvalidRecordError(path, value, f"out of range for {name} [{low}, {high}]")
        return int(value)

    return convert


def float_to_wire(primitive: Primitive, path: str) -> Converter:
    is_float32 = DELTA_TYPES[primitive].float32

    def convert(value: Any) -> float:
        if type(value) is not float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidRecordError(
                    path, value, f"expected a number for {primitive.name}, got {type(value).__name__}"
                )
            try:
                value = float(value)
            except OverflowError:
                raise InvalidRecordError(path, value, f"out of range for {primitive.name}") from None
        if is_float32 and math.isfinite(value) and abs(value) > FLOAT32_MAX:
            raise InvalidRecordError(path, value, "out of range for FLOAT (32-bit)")
        return float(value)

    return convert


def _bool_to_wire(path: str) -> Converter:
    def convert(value: Any) -> bool:
        if type(value) is not bool:
            raise InvalidRecordError(path, value, f"expected a boolean, got {type(value).__name__}")
        return value

    return convert


def string_to_wire(string_type: StringType, path: str) -> Converter:
    length = string_type.length

    def convert(value: Any) -> str:
        if type(value) is not str:
            if not isinstance(value, str):
                raise InvalidRecordError(
                    path, value, not_text(value, f"expected a string, got {type(value).__name__}")
                )
            value = str(value)
        if has_lone_surrogate(value):
            raise InvalidRecordError(path, value, str(text_problem(value)))
        if length is not None and len(value) > length:
            raise InvalidRecordError(
                path, value, f"longer than {string_type.type_text} allows ({len(value)} > {length})"
            )
        return str(value)

    return convert


def not_text(value: Any, otherwise: str) -> str:
    """The reason a non-`str` value is refused where text belongs (undecodable proto2 strings are bytes)."""
    if isinstance(value, (bytes, bytearray)):
        return text_problem(bytes(value)) or otherwise
    return otherwise


def _binary_to_wire(path: str, json_mode: bool) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise InvalidRecordError(path, value, f"expected bytes for BINARY, got {type(value).__name__}")
        raw = bytes(value)
        return base64.b64encode(raw).decode("ascii") if json_mode else raw

    return convert


def _date_to_wire(path: str, units: IntegerUnits) -> Converter:
    int_to_days = date_int_to_days(units.date, path)

    def convert(value: Any) -> int:
        if isinstance(value, dt.datetime):
            raise InvalidRecordError(path, value, "expected a date for DATE, got a datetime (use .date())")
        if isinstance(value, dt.date):
            return date_to_days(value)
        if isinstance(value, str):
            try:
                return date_to_days(dt.date.fromisoformat(value))
            except ValueError:
                raise InvalidRecordError(path, value, "not an ISO date (YYYY-MM-DD)") from None
        if isinstance(value, int) and not isinstance(value, bool):
            return int_to_days(int(value))
        raise InvalidRecordError(
            path, value, f"expected a date or days since 1970-01-01, got {type(value).__name__}"
        )

    return convert


def _timestamp_to_wire(primitive: Primitive, path: str, units: IntegerUnits) -> Converter:
    ntz = not DELTA_TYPES[primitive].timezone_aware
    int_to_micros = timestamp_int_to_micros(units.timestamp, primitive.name, path)

    def from_datetime(value: dt.datetime, original: Any) -> int:
        if ntz:
            if value.tzinfo is not None:
                raise InvalidRecordError(
                    path, original, "TIMESTAMP_NTZ takes a naive (wall-clock) datetime, got an aware one"
                )
            return datetime_to_micros(value)
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidRecordError(
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
                raise InvalidRecordError(path, value, "not an ISO-8601 timestamp") from None
            return from_datetime(parsed, value)
        if isinstance(value, int) and not isinstance(value, bool):
            return int_to_micros(int(value))
        if isinstance(value, dt.date):
            raise InvalidRecordError(path, value, f"expected a datetime for {primitive.name}, got a date")
        raise InvalidRecordError(
            path, value, f"expected a datetime or microseconds since the epoch, got {type(value).__name__}"
        )

    return convert


def _variant_to_wire(path: str) -> Converter:
    def convert(value: Any) -> str:
        if isinstance(value, str):
            check_json_text(value, path)
            return value
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InvalidRecordError(
                path, value, f"VARIANT value is not JSON-serialisable: {error}"
            ) from None
        except RecursionError:
            text = None
        problem = rendered_depth_problem(value, text)
        if problem is not None:
            raise InvalidRecordError(path, value, f"VARIANT value is {problem}")
        assert text is not None
        return text

    return convert


def check_json_text(text: str, path: str) -> None:
    problem = json_text_problem(text)
    if problem is not None:
        raise InvalidRecordError(path, text, f"VARIANT takes JSON text: {problem}")
