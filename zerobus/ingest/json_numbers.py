"""Internal: JSON numbers for DECIMAL columns, taken exactly as the file wrote them.

`json` reads ``12.30`` as a binary float, and the SDK rightly refuses floats for DECIMAL (the
text is gone, so any decimal would be a guess). A file still has the text: numbers with a
fraction or an exponent are parsed as `JsonFloat`, a float that remembers its text, and the
values at DECIMAL positions of the schema become `Decimal(text)`. Everywhere else a `JsonFloat`
is an ordinary float. Tables without a DECIMAL anywhere parse with plain floats. NaN and
Infinity, which `json` accepts but JSON has no spelling for, are refused.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from typing import Any

from zerobus.schema.ir import ArrayType, DataType, DecimalType, MapType, StructType, TableSchema
from zerobus.strict_json import strict_decoder

__all__ = ["JsonFloat", "json_loader"]

Fix = Callable[[Any], Any]


class JsonFloat(float):
    """A JSON number with a fraction or exponent, keeping the text it was written as."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JsonFloat:
        number = super().__new__(cls, text)
        number.text = text
        return number


def _decimal(value: Any) -> Any:
    return decimal.Decimal(value.text) if type(value) is JsonFloat else value


def _fix(data_type: DataType) -> Fix | None:
    """A function putting Decimals at this type's DECIMAL positions; None when it has none."""
    if isinstance(data_type, DecimalType):
        return _decimal
    if isinstance(data_type, ArrayType):
        element = _fix(data_type.element)
        if element is None:
            return None
        return lambda value: [element(item) for item in value] if isinstance(value, list) else value
    if isinstance(data_type, MapType):
        item_fix = _fix(data_type.value)
        if item_fix is None:
            return None
        return lambda value: (
            {key: item_fix(item) for key, item in value.items()} if isinstance(value, dict) else value
        )
    if isinstance(data_type, StructType):
        return _fields_fix([(f.name, f.type) for f in data_type.fields])
    return None


def _fields_fix(fields: list[tuple[str, DataType]]) -> Fix | None:
    fixes = [(name, fix) for name, data_type in fields if (fix := _fix(data_type)) is not None]
    if not fixes:
        return None

    def fix_fields(value: Any) -> Any:
        if isinstance(value, dict):
            for name, fix in fixes:
                item = value.get(name)
                if item is not None:
                    value[name] = fix(item)
        return value

    return fix_fields


def json_loader(data_type: DataType | TableSchema) -> Callable[[str], Any]:
    """`json.loads` for values of `data_type` (or rows of a table): exact decimals where they belong."""
    if isinstance(data_type, TableSchema):
        fix = _fields_fix([(c.name, c.type) for c in data_type.columns])
    else:
        fix = _fix(data_type)
    if fix is None:
        return strict_decoder().decode
    decode = strict_decoder(parse_float=JsonFloat).decode
    fixer = fix

    def loads(text: str) -> Any:
        return fixer(decode(text))

    return loads
