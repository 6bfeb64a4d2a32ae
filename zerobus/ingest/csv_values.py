"""Internal: CSV fields are text: turn each into the value its column takes, by the table's schema.

Only what text cannot say is converted here: integers, floats, booleans, base64 binary, and
JSON for ARRAY, MAP and STRUCT columns. Decimals, dates, timestamps (ISO text, or an integer
in the unit `--timestamp-unit` declares), VARIANT JSON and strings go to the SDK as text, and
the SDK checks them like any other value. An empty field is null in a nullable column and the
empty string in a NOT NULL string column; anywhere else it is refused as a missing value.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.ingest.json_numbers import json_loader
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import (
    ArrayType,
    Column,
    DataType,
    MapType,
    PrimitiveType,
    StringType,
    StructType,
)

__all__ = ["TextConverter", "empty_value", "text_converter"]

TextConverter = Callable[[str], Any]

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def _integer(text: str) -> int | None:
    """The integer `text` spells in ASCII digits (an optional sign, spaces around), else None.

    `int()` alone would also take underscores ("1_000") and other scripts' digits.
    """
    if not text.isascii() or "_" in text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _to_int(column: str, type_name: str) -> TextConverter:
    def convert(text: str) -> int:
        value = _integer(text)
        if value is None:
            raise InvalidRecordError(column, text, f"not an integer for {type_name}")
        return value

    return convert


def _to_float(column: str, type_name: str) -> TextConverter:
    def convert(text: str) -> float:
        try:
            if "_" in text:
                raise ValueError(text)
            return float(text)
        except ValueError:
            raise InvalidRecordError(column, text, f"not a number for {type_name}") from None

    return convert


def _to_bool(column: str) -> TextConverter:
    def convert(text: str) -> bool:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise InvalidRecordError(
            column, text, "not a boolean (true/false, t/f, yes/no, y/n or 1/0, any case)"
        )

    return convert


def _to_bytes(column: str) -> TextConverter:
    def convert(text: str) -> bytes:
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRecordError(column, text, "not base64 text for BINARY") from None

    return convert


def _timestamp_or_text(text: str) -> int | str:
    """An integer (its unit is the stream's `timestamp_unit`), else ISO text for the SDK to parse."""
    stripped = text.strip()
    if stripped[-1:].isdigit() and ":" not in stripped and "-" not in stripped[1:]:
        value = _integer(stripped)
        if value is not None:
            return value
    return text


def _from_json(column: str, data_type: DataType) -> TextConverter:
    loads = json_loader(data_type)
    type_text = data_type.type_text

    def convert(text: str) -> Any:
        try:
            return loads(text)
        except (ValueError, RecursionError) as error:
            raise InvalidRecordError(column, text, f"not JSON for {type_text}: {error}") from None

    return convert


def text_converter(column: Column) -> TextConverter | None:
    """How a non-empty field of `column` becomes its value; None: the text itself is the value."""
    data_type: DataType = column.type
    name = column.name
    if isinstance(data_type, PrimitiveType):
        primitive = data_type.primitive
        kind = DELTA_TYPES[primitive].kind
        if kind is ValueKind.INTEGER:
            return _to_int(name, primitive.name)
        if kind is ValueKind.FLOATING:
            return _to_float(name, primitive.name)
        if kind is ValueKind.BOOLEAN:
            return _to_bool(name)
        if kind is ValueKind.BINARY:
            return _to_bytes(name)
        if kind is ValueKind.TIMESTAMP:
            return _timestamp_or_text
        return None  # DATE (ISO text), VARIANT (JSON text)
    if isinstance(data_type, (ArrayType, MapType, StructType)):
        return _from_json(name, data_type)
    return None  # STRING, VARCHAR, CHAR, DECIMAL (text the SDK parses exactly)


def empty_value(column: Column) -> Any:
    """What an empty field means: null, or "" for a NOT NULL string column (text cannot tell them apart)."""
    if not column.nullable and isinstance(column.type, StringType):
        return ""
    return None
