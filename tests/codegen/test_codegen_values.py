"""Edge values of the wire contract: every refusal is an InvalidRecordError naming the field."""

from __future__ import annotations

import decimal

import pytest

from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text
from zerobus.schema.ir import DecimalType, Primitive, PrimitiveType
from zerobus.schema.python_to_wire import to_wire
from zerobus.schema.wire_checks import wire_check

D = decimal.Decimal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.3", "12.30"),
        ("12.30", "12.30"),
        ("1.2300", "1.23"),
        ("0E-50", "0.00"),
        ("99999999.99", "99999999.99"),
    ],
)
def test_decimal_text_is_canonical(text: str, expected: str) -> None:
    assert decimal_text(D(text), DecimalType(10, 2)) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1E100", "needs 101 integer digits"),  # used to escape as decimal.InvalidOperation
        ("100000000", "needs 9 integer digits"),
        ("0.001", "has 3 fractional digits"),
        ("1E-50", "has 50 fractional digits"),
    ],
)
def test_decimal_text_refuses_what_does_not_fit(text: str, reason: str) -> None:
    with pytest.raises(InvalidRecordError, match=reason) as caught:
        decimal_text(D(text), DecimalType(10, 2), "amount")
    assert caught.value.field == "amount"
    check = wire_check(DecimalType(10, 2), "amount")
    assert check is not None
    with pytest.raises(InvalidRecordError, match=reason):
        check(text)


def test_wide_decimals_keep_every_digit() -> None:
    # More significant digits than the default decimal context's 28.
    value = D("1234567890123456789012345678.0123456789")
    assert decimal_text(value, DecimalType(38, 10)) == "1234567890123456789012345678.0123456789"
    with pytest.raises(InvalidRecordError, match="fractional digits"):
        decimal_text(D("1234567890123456789012345678.01234567891"), DecimalType(38, 10))


@pytest.mark.parametrize("primitive", [Primitive.DOUBLE, Primitive.FLOAT])
def test_integers_too_large_for_a_float_are_refused(primitive: Primitive) -> None:
    with pytest.raises(InvalidRecordError, match=f"out of range for {primitive.name}") as caught:
        to_wire(PrimitiveType(primitive), "value")(10**400)  # used to escape as OverflowError
    assert caught.value.field == "value"
    check = wire_check(PrimitiveType(primitive), "value", json_mode=True)
    assert check is not None
    with pytest.raises(InvalidRecordError, match="out of range"):
        check(10**400)
