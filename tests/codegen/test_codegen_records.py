"""Rows of Python values <-> proto bytes and JSON record text (docs/PROTOCOL.md section 7)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zerobus.codegen import (
    DecimalType,
    codec,
    json_encoder,
    message_class,
    model_class,
    proto_encoder,
    schema_from_ddl,
)
from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text

SCHEMA = schema_from_ddl(
    "id BIGINT NOT NULL, day DATE, at TIMESTAMP, wall TIMESTAMP_NTZ, amount DECIMAL(8,2), raw BINARY, "
    "doc VARIANT, tags ARRAY<STRING>, counts MAP<INT, BIGINT>, flags MAP<BOOLEAN, STRING>, "
    "loc STRUCT<lat: DOUBLE, lon: DOUBLE, names: ARRAY<STRUCT<lang: STRING, text: STRING>>>, "
    "by_day MAP<DATE, STRUCT<n: SMALLINT>>",
    "main.default.events",
)
UTC = dt.timezone.utc
ROW = {
    "id": 7,
    "day": dt.date(2024, 2, 29),
    "at": dt.datetime(2024, 2, 29, 12, 30, 0, 250, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "wall": dt.datetime(2024, 2, 29, 12, 30),
    "amount": Decimal("12.3"),
    "raw": b"\x00\xff",
    "doc": {"k": [1, 2]},
    "tags": ["a", "b"],
    "counts": {1: 10, -2: 20},
    "flags": {True: "yes", False: "no"},
    "loc": {"lat": 1.5, "lon": -2.25, "names": [{"lang": "en", "text": "x"}]},
    "by_day": {dt.date(1970, 1, 2): {"n": 3}},
}
DAYS = (dt.date(2024, 2, 29) - dt.date(1970, 1, 1)).days
MICROS = int((dt.datetime(2024, 2, 29, 10, 30, tzinfo=UTC).timestamp()) * 1_000_000) + 250
WALL_MICROS = int(dt.datetime(2024, 2, 29, 12, 30, tzinfo=UTC).timestamp() * 1_000_000)


def test_json_record_carries_section_7_values() -> None:
    record = json.loads(json_encoder(SCHEMA)(ROW))
    assert record == {
        "id": 7,
        "day": DAYS,
        "at": MICROS,
        "wall": WALL_MICROS,
        "amount": "12.30",
        "raw": "AP8=",
        "doc": '{"k":[1,2]}',
        "tags": ["a", "b"],
        "counts": {"1": 10, "-2": 20},
        "flags": {"true": "yes", "false": "no"},
        "loc": {"lat": 1.5, "lon": -2.25, "names": [{"lang": "en", "text": "x"}]},
        "by_day": {"1": {"n": 3}},
    }


def test_proto_record_decodes_with_the_runtime_class() -> None:
    data = proto_encoder(SCHEMA)(ROW)
    message = message_class(SCHEMA).FromString(data)
    assert message.id == 7
    assert message.day == DAYS
    assert message.at == MICROS
    assert message.wall == WALL_MICROS
    assert message.amount == "12.30"
    assert message.raw == b"\x00\xff"
    assert message.loc.names[0].text == "x"
    assert dict(message.counts) == {1: 10, -2: 20}
    assert message.by_day[1].n == 3


def test_both_record_types_decode_back_to_python_values() -> None:
    row_codec = codec(SCHEMA)
    expected = {**ROW, "amount": Decimal("12.30"), "at": ROW["at"].astimezone(UTC), "doc": '{"k":[1,2]}'}
    assert row_codec.decode_proto(row_codec.encode_proto(ROW)) == expected
    assert row_codec.decode_json(row_codec.encode_json(ROW)) == expected


def test_nulls_are_left_out_and_empty_containers_decode_empty() -> None:
    row_codec = codec(SCHEMA)
    sparse = {"id": 1, "tags": [], "loc": None}
    assert row_codec.row_to_wire(sparse) == {"id": 1, "tags": []}
    decoded = row_codec.decode_proto(row_codec.encode_proto(sparse))
    assert decoded["loc"] is None
    assert decoded["day"] is None
    # Proto cannot tell an empty ARRAY/MAP from NULL: both decode empty.
    assert decoded["tags"] == []
    assert decoded["counts"] == {}
    assert row_codec.decode_json(row_codec.encode_json(sparse))["tags"] == []


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ({"day": dt.date.today()}, "id", "NOT NULL field is missing"),
        ({"id": 2**63}, "id", "out of range for BIGINT"),
        ({"id": 1, "loc": {"names": [{"lang": 5}]}}, "loc.names[0].lang", "expected a string"),
        ({"id": 1, "counts": {"x": 1}}, "counts{'x'}", "expected an integer"),
        ({"id": 1, "amount": Decimal("1.234")}, "amount", "fractional digits"),
        ({"id": 1, "at": dt.datetime(2024, 1, 1)}, "at", "timezone-aware"),
        ({"id": 1, "nope": 1}, "nope", "unknown field"),
    ],
)
def test_invalid_rows_name_the_field(row: dict[str, object], field: str, reason: str) -> None:
    for encode in (proto_encoder(SCHEMA), json_encoder(SCHEMA)):
        with pytest.raises(InvalidRecordError) as caught:
            encode(row)
        assert caught.value.field == field
        assert reason in caught.value.reason


def test_non_finite_floats_have_no_json_spelling() -> None:
    row = {"id": 1, "loc": {"lat": float("nan")}}
    assert codec(SCHEMA).encode_proto(row)  # proto carries NaN
    with pytest.raises(InvalidRecordError, match="cannot be written as JSON"):
        json_encoder(SCHEMA)(row)


def test_garbage_is_not_decoded_silently() -> None:
    with pytest.raises(InvalidRecordError, match=r"not a valid main\.default\.events record"):
        codec(SCHEMA).decode_proto(b"\xff\xff\xff")
    with pytest.raises(InvalidRecordError, match="not valid JSON"):
        codec(SCHEMA).decode_json("{")
    with pytest.raises(InvalidRecordError, match="must be an object"):
        codec(SCHEMA).decode_json("[1]")


def test_codecs_are_cached_per_schema() -> None:
    assert codec(SCHEMA) is codec(SCHEMA)
    assert codec(SCHEMA, "Other") is not codec(SCHEMA)
    assert codec(SCHEMA, "Other").message_class.DESCRIPTOR.name == "Other"


def test_nested_models_in_dict_rows_are_read_by_column_name() -> None:
    schema = schema_from_ddl("s STRUCT<`class`: INT, `from`: STRING>", "main.default.aliased")
    struct_model = type(model_class(schema)(s={"class": 1}).s)
    value = struct_model(class_=1, from_="x")
    assert codec(schema).row_to_wire({"s": value}) == {"s": {"class": 1, "from": "x"}}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.integers(1, 38).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))),
    st.tuples(st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=40), st.integers(-45, 5)),
)
def test_decimal_text_is_the_quantized_value_or_an_error(
    precision_scale: tuple[int, int], parts: Any
) -> None:
    precision, scale = precision_scale
    sign, digits, exponent = parts
    value = Decimal((sign, tuple(digits), exponent))
    decimal_type = DecimalType(precision, scale)
    context = decimal.Context(prec=100)
    quantized = value.quantize(Decimal(1).scaleb(-scale), context=context)
    exact = quantized == value
    fits = quantized == 0 or len(quantized.as_tuple().digits) - scale <= precision - scale
    if exact and fits:
        assert decimal_text(value, decimal_type) == format(quantized, "f")
    else:
        with pytest.raises(InvalidRecordError):
            decimal_text(value, decimal_type)
