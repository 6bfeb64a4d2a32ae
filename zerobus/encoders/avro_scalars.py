"""Internal: Avro scalar and logical types: a Python value checked and converted to what fastavro writes.

Part of the record converter of `avro_values`: each function compiles, for one Avro type, a
converter that refuses a value with `AvroValueError` (reason and value; the nesting adds the path)
and otherwise returns the plain Avro value: logical types become their underlying int, long or
bytes here, so fastavro never converts them again.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text, float_for_decimal
from zerobus.schema.delta_types_table import FLOAT32_MAX
from zerobus.schema.epoch import date_to_days, datetime_to_micros
from zerobus.schema.ir import DecimalType
from zerobus.schema.time_units import IntegerUnits, date_int_to_days, timestamp_int_to_micros
from zerobus.schema.unicode_text import has_lone_surrogate, text_problem

__all__ = [
    "PRIMITIVES",
    "AvroValueError",
    "Converter",
    "enum_converter",
    "fixed_converter",
    "logical_converter",
    "primitive_converter",
]

Converter = Callable[[Any], Any]

_INT_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class AvroValueError(Exception):
    """A refused value; `path` grows (``.name``, ``[3]``) as the error climbs out of nesting."""

    def __init__(self, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.value = value
        self.reason = reason
        self.path = ""

    def under(self, part: str) -> AvroValueError:
        self.path = part + self.path
        return self


# --- scalars ------------------------------------------------------------------------------------


def primitive_converter(kind: str) -> Converter:
    if kind == "null":

        def convert_null(value: Any) -> None:
            if value is not None:
                raise AvroValueError(value, f"expected null, got {type(value).__name__}")

        return convert_null
    if kind == "boolean":

        def convert_bool(value: Any) -> bool:
            if type(value) is not bool:
                raise AvroValueError(value, f"expected a boolean, got {type(value).__name__}")
            return value

        return convert_bool
    if kind in _INT_RANGES:
        return _integer(kind)
    if kind in ("float", "double"):
        return _floating(kind)
    if kind == "bytes":

        def convert_bytes(value: Any) -> bytes:
            if not isinstance(value, (bytes, bytearray, memoryview)):
                raise AvroValueError(value, f"expected bytes, got {type(value).__name__}")
            return bytes(value)

        return convert_bytes
    return _string


def _integer(kind: str) -> Converter:
    low, high = _INT_RANGES[kind]

    def convert(value: Any) -> int:
        if type(value) is not int:
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise AvroValueError(
                    value, f"expected an integer for Avro {kind}, got {type(value).__name__}"
                )
            value = value.__index__()
        if not low <= value <= high:
            raise AvroValueError(value, f"out of range for Avro {kind} [{low}, {high}]")
        return int(value)

    return convert


def _floating(kind: str) -> Converter:
    def convert(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AvroValueError(value, f"expected a number for Avro {kind}, got {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:
            raise AvroValueError(value, f"out of range for Avro {kind}") from None
        if kind == "float" and math.isfinite(number) and abs(number) > FLOAT32_MAX:
            raise AvroValueError(value, "out of range for Avro float (32-bit)")
        return number

    return convert


def _string(value: Any) -> str:
    if not isinstance(value, str):
        problem = text_problem(bytes(value)) if isinstance(value, (bytes, bytearray)) else None
        raise AvroValueError(value, problem or f"expected a string, got {type(value).__name__}")
    if has_lone_surrogate(value):
        raise AvroValueError(value, str(text_problem(value)))
    return str(value)


def enum_converter(node: dict[str, Any]) -> Converter:
    symbols = list(node.get("symbols", []))

    def convert(value: Any) -> str:
        if value not in symbols or not isinstance(value, str):
            raise AvroValueError(value, f"not a symbol of enum {node.get('name')} {symbols}")
        return value

    return convert


def fixed_converter(node: dict[str, Any], logical: Any) -> Converter:
    size = int(node.get("size", 0))
    if logical == "decimal":
        unscaled = _decimal_unscaled(node)

        def convert_decimal(value: Any) -> bytes:
            number = unscaled(value)
            try:
                return number.to_bytes(size, "big", signed=True)
            except OverflowError:
                raise AvroValueError(value, f"does not fit fixed({size}) decimal") from None

        return convert_decimal

    def convert(value: Any) -> bytes:
        if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != size:
            shown = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray)) else type(value).__name__
            raise AvroValueError(
                value, f"expected exactly {size} bytes for fixed {node.get('name')}, got {shown}"
            )
        return bytes(value)

    return convert


# --- logical types ------------------------------------------------------------------------------


def logical_converter(kind: str, logical: Any, node: dict[str, Any], units: IntegerUnits) -> Converter | None:
    if kind == "int" and logical == "date":
        return _date(units)
    if kind == "long" and logical in ("timestamp-micros", "timestamp-millis"):
        return _timestamp(aware=True, millis=logical == "timestamp-millis", units=units)
    if kind == "long" and logical in ("local-timestamp-micros", "local-timestamp-millis"):
        return _timestamp(aware=False, millis=logical == "local-timestamp-millis", units=units)
    if kind == "bytes" and logical == "decimal":
        unscaled = _decimal_unscaled(node)

        def convert_decimal(value: Any) -> bytes:
            number = unscaled(value)
            return number.to_bytes((number + (number < 0)).bit_length() // 8 + 1, "big", signed=True)

        return convert_decimal
    if kind == "string" and logical == "uuid":

        def convert_uuid(value: Any) -> str:
            return str(value) if isinstance(value, uuid.UUID) else _string(value)

        return convert_uuid
    return None


_convert_int = _integer("int")
_convert_long = _integer("long")


def _date(units: IntegerUnits) -> Converter:
    int_to_days = date_int_to_days(units.date, "")

    def convert(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return int(_convert_int(int_to_days(value)))
            except InvalidRecordError as error:
                raise AvroValueError(value, error.reason) from None
        return _date_value(value)

    return convert


def _date_value(value: Any) -> int:
    if isinstance(value, dt.datetime):
        raise AvroValueError(value, "expected a date for Avro date, got a datetime (use .date())")
    if isinstance(value, dt.date):
        return date_to_days(value)
    if isinstance(value, str):
        try:
            return date_to_days(dt.date.fromisoformat(value))
        except ValueError:
            raise AvroValueError(value, "not an ISO date (YYYY-MM-DD)") from None
    raise AvroValueError(value, f"expected a date or days since 1970-01-01, got {type(value).__name__}")


def _timestamp(aware: bool, millis: bool, units: IntegerUnits) -> Converter:
    what = ("timestamp" if aware else "local-timestamp") + ("-millis" if millis else "-micros")
    int_to_micros = timestamp_int_to_micros(units.timestamp, f"Avro {what}", "")

    def from_datetime(value: dt.datetime, original: Any) -> int:
        if aware and (value.tzinfo is None or value.utcoffset() is None):
            raise AvroValueError(
                original, f"Avro {what} needs a timezone-aware datetime (e.g. tzinfo=datetime.timezone.utc)"
            )
        if not aware and value.tzinfo is not None:
            raise AvroValueError(
                original, f"Avro {what} takes a naive (wall-clock) datetime, got an aware one"
            )
        micros = datetime_to_micros(value)
        if millis and micros % 1000:
            raise AvroValueError(original, f"Avro {what} holds milliseconds; the datetime has microseconds")
        return micros // 1000 if millis else micros

    def convert(value: Any) -> int:
        if isinstance(value, dt.datetime):
            return from_datetime(value, value)
        if isinstance(value, str):
            text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                raise AvroValueError(value, "not an ISO-8601 timestamp") from None
            return from_datetime(parsed, value)
        if isinstance(value, int) and not isinstance(value, bool):
            if millis:  # the schema declares the unit
                return int(_convert_long(value))
            try:
                return int_to_micros(int(value))
            except InvalidRecordError as error:
                raise AvroValueError(value, error.reason) from None
        raise AvroValueError(
            value, f"expected a datetime or an integer for Avro {what}, got {type(value).__name__}"
        )

    return convert


def _decimal_unscaled(node: dict[str, Any]) -> Callable[[Any], int]:
    decimal_type = DecimalType(int(node.get("precision", 0)), int(node.get("scale", 0) or 0))
    label = f"Avro decimal({decimal_type.precision},{decimal_type.scale})"

    def unscaled(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (decimal.Decimal, int, str, float)):
            raise AvroValueError(value, f"expected a decimal for {label}, got {type(value).__name__}")
        if isinstance(value, float):
            raise AvroValueError(value, float_for_decimal(label))
        try:
            number = decimal.Decimal(value.strip() if isinstance(value, str) else value)
        except decimal.InvalidOperation:
            raise AvroValueError(value, f"not a decimal number for {label}") from None
        try:
            text = decimal_text(number, decimal_type)
        except InvalidRecordError as error:
            raise AvroValueError(value, error.reason.replace(decimal_type.type_text, label)) from None
        return int(text.replace(".", ""))

    return unscaled
