"""Internal: DECIMAL values on the wire: canonical decimal text, never rounded (docs/PROTOCOL.md section 7).

A DECIMAL(p,s) travels as text with exactly `s` fractional digits. Text, `Decimal` and `int` are
taken; a float is refused with the same reason everywhere (SDK, models, the local server), because
which decimal a binary float meant is the caller's to say.
"""

from __future__ import annotations

import decimal
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.ir import DecimalType
from zerobus.schema.scalar_values import Converter

__all__ = ["decimal_text", "decimal_to_wire", "float_for_decimal", "parse_decimal"]

# The context for normalising and quantizing: more digits than any DECIMAL (at most 38) holds.
_DECIMAL_CONTEXT = decimal.Context(prec=80)


def decimal_text(value: decimal.Decimal, decimal_type: DecimalType, path: str = "") -> str:
    """Canonical decimal text with exactly `scale` fractional digits (``Decimal('12.3')`` -> ``'12.30'``)."""
    if not value.is_finite():
        raise InvalidRecordError(path, value, f"{decimal_type.type_text} cannot hold {value}")
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
            raise InvalidRecordError(
                path, value, f"has {-exponent} fractional digits; {decimal_type.type_text} allows {scale}"
            )
    integer_digits = value.adjusted() + 1 if value else 0
    if integer_digits > precision - scale:
        raise InvalidRecordError(
            path,
            value,
            f"needs {integer_digits} integer digits; {decimal_type.type_text} allows {precision - scale}",
        )
    # At most `precision` digits now, so quantizing neither rounds nor overflows the context.
    return format(value.quantize(decimal.Decimal(1).scaleb(-scale), context=_DECIMAL_CONTEXT), "f")


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


def decimal_to_wire(decimal_type: DecimalType, path: str) -> Converter:
    """A `Decimal`, an int or decimal text -> canonical text; floats and bools are refused."""

    def convert(value: Any) -> str:
        if isinstance(value, decimal.Decimal):
            number = value
        elif isinstance(value, bool):
            raise InvalidRecordError(
                path, value, f"expected a decimal for {decimal_type.type_text}, got bool"
            )
        elif isinstance(value, int):
            number = decimal.Decimal(value)
        elif isinstance(value, float):
            raise InvalidRecordError(path, value, float_for_decimal(decimal_type.type_text))
        elif isinstance(value, str):
            number = parse_decimal(value, decimal_type, path)
        else:
            raise InvalidRecordError(
                path, value, f"expected a decimal for {decimal_type.type_text}, got {type(value).__name__}"
            )
        return decimal_text(number, decimal_type, path)

    return convert


def parse_decimal(text: str, decimal_type: DecimalType, path: str) -> decimal.Decimal:
    """Decimal text -> a finite `Decimal` (NaN and Infinity have no DECIMAL form)."""
    try:
        number = decimal.Decimal(text.strip())
    except decimal.InvalidOperation:
        raise InvalidRecordError(path, text, f"not a decimal number for {decimal_type.type_text}") from None
    if not number.is_finite():
        raise InvalidRecordError(path, text, f"{decimal_type.type_text} cannot hold {text}")
    return number
