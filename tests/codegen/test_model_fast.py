"""The compiled model -> wire/proto path (`zerobus.codegen.model_fast`) against the reference path."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, field_serializer

from tests.codegen.codegen_strategies import rows, schemas
from tests.codegen.wire_compare import assert_same_record
from zerobus.codegen import TableSchema, ZerobusModel, model_class, schema_from_ddl
from zerobus.codegen.model_base import _reference_proto_bytes, _reference_wire
from zerobus.codegen.model_fast import fields_converter
from zerobus.encoders.proto import ProtoEncoder
from zerobus.encoders.record_schemas import resolve_record_schema
from zerobus.errors import InvalidRecordError

UTC = dt.timezone.utc
DDL = (
    "name STRING NOT NULL, code VARCHAR(4), tiny TINYINT, small SMALLINT, n INT, big BIGINT, "
    "ratio FLOAT, x DOUBLE, ok BOOLEAN, raw BINARY, at TIMESTAMP, wall TIMESTAMP_NTZ, day DATE, "
    "price DECIMAL(6,3), doc VARIANT, tags MAP<STRING, STRING>, counts ARRAY<INT>, "
    "spot STRUCT<lat: DOUBLE, `class`: STRING NOT NULL>, spots ARRAY<STRUCT<at: TIMESTAMP>>"
)
ROW: dict[str, Any] = {
    "name": "sensor",
    "code": "ab",
    "tiny": -5,
    "small": 300,
    "n": 7,
    "big": 2**40,
    "ratio": 1.5,
    "x": 2.25,
    "ok": True,
    "raw": b"\x00\xff",
    "at": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "wall": dt.datetime(1960, 1, 1, 0, 0, 0, 5),
    "day": dt.date(1969, 12, 31),
    "price": Decimal("1.5"),
    "doc": {"a": [1, None]},
    "tags": {"k": "v"},
    "counts": [1, 2],
    "spot": {"lat": 1.0, "class": "c"},
    "spots": [{"at": dt.datetime(2024, 1, 1, tzinfo=UTC)}],
}


def _model() -> type[ZerobusModel]:
    return model_class(schema_from_ddl(DDL, "main.default.fast"))


def _fast_bytes(row: ZerobusModel) -> bytes:
    """The compiled converter alone (no fallback): it must not give up on a valid model."""
    model = type(row)
    convert = fields_converter(model, model.zerobus_schema().as_struct(), trust_text=True)
    assert convert is not None
    data: bytes = model.zerobus_codec().build_message(convert(row.__dict__)).SerializeToString()
    return data


def test_every_column_kind_gives_the_reference_bytes_and_wire_row() -> None:
    row = _model()(**ROW)
    assert _fast_bytes(row) == _reference_proto_bytes(row)
    assert row.to_proto_bytes() == _reference_proto_bytes(row)
    assert row.to_wire() == _reference_wire(row)
    wire = row.to_wire()
    assert wire["at"] == 1714559400000000
    assert wire["wall"] == (dt.datetime(1960, 1, 1, 0, 0, 0, 5) - dt.datetime(1970, 1, 1)) // dt.timedelta(
        microseconds=1
    )
    assert wire["day"] == -1
    assert wire["price"] == "1.500"
    assert wire["spot"] == {"lat": 1.0, "class": "c"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_valid_models_give_the_reference_bytes(data: st.DataObject) -> None:
    schema: TableSchema = data.draw(schemas())
    model = model_class(schema)
    values = data.draw(rows(schema))
    try:
        row = model.model_validate(values)
    except ValidationError:
        assume(False)  # the row strategy speaks the dict path; a few of its values are not model inputs
        raise
    reference = _reference_proto_bytes(row)
    assert _fast_bytes(row) == reference
    assert_same_record(row.to_proto_bytes(), reference, model.message_class())
    assert row.to_wire() == _reference_wire(row)


@pytest.mark.parametrize(
    ("attr", "value", "field", "reason"),
    [
        ("tiny", 1000, "tiny", "out of range for TINYINT"),
        ("n", 2**31, "n", "out of range for INT"),
        ("n", True, "n", "expected an integer"),
        ("name", b"bytes", "name", "expected a string"),
        ("name", "lone \ud800 surrogate", "name", "surrogate"),
        ("name", None, "name", "NOT NULL field is null"),
        ("code", "toolong", "code", "longer than"),
        ("x", 1, None, None),  # an int for a DOUBLE is converted, as the reference path does
        ("ok", 1, "ok", "expected a boolean"),
        ("raw", "text", "raw", "expected bytes"),
        ("at", dt.datetime(2024, 1, 1), "at", "timezone-aware"),
        ("wall", dt.datetime(2024, 1, 1, tzinfo=UTC), "wall", "naive"),
        ("day", dt.datetime(2024, 1, 1), "day", "got a datetime"),
        ("price", 1.5, "price", "a float cannot be given"),
        ("tags", {"k": b"v"}, "tags['k']", "expected a string"),
        ("tags", {"k": None}, "tags['k']", "cannot be null"),
        ("counts", [1, None], "counts[1]", "null elements"),
        ("counts", [1, 2**40], "counts[1]", "out of range for INT"),
        ("spot", {"lat": 2.0, "class": "d"}, None, None),  # a dict where a struct model was
    ],
)
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the reference dump's, expected here
def test_values_changed_after_validation_get_the_reference_result(
    attr: str, value: Any, field: str | None, reason: str | None
) -> None:
    row = _model()(**ROW)
    setattr(row, attr, value)
    if field is None:
        assert row.to_proto_bytes() == _reference_proto_bytes(row)
        assert row.to_wire() == _reference_wire(row)
        return
    for convert in (row.to_proto_bytes, row.to_wire):
        with pytest.raises(InvalidRecordError) as caught:
            convert()
        assert caught.value.field == field
        assert reason is not None and reason in caught.value.reason


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_nested_struct_changed_after_validation_is_checked_with_its_path() -> None:
    row: Any = _model()(**ROW)
    row.spot.lat = "north"
    with pytest.raises(InvalidRecordError) as caught:
        row.to_proto_bytes()
    assert caught.value.field == "spot.lat"


def test_a_subclass_with_its_own_serializer_takes_the_reference_path() -> None:
    base = model_class(schema_from_ddl("name STRING, n INT", "main.default.custom"))

    class Shouting(base):  # type: ignore[valid-type, misc]
        @field_serializer("name")
        def _upper(self, value: str | None) -> str | None:
            return value.upper() if value is not None else None

    row: Any = Shouting(name="quiet", n=1)
    assert fields_converter(Shouting, Shouting.zerobus_schema().as_struct(), trust_text=True) is None
    assert row.to_wire() == {"name": "QUIET", "n": 1}
    decoded: Any = base.from_proto_bytes(row.to_proto_bytes())
    assert decoded.name == "QUIET"


def test_the_sdk_encodes_its_own_model_with_the_compiled_function() -> None:
    model = _model()
    record_schema = resolve_record_schema(model)
    assert record_schema is not None
    encoder = ProtoEncoder(record_schema)
    row: Any = model(**ROW)
    assert encoder.encode(row) == _reference_proto_bytes(row)
    row.tiny = 1000
    with pytest.raises(InvalidRecordError, match="out of range for TINYINT"):
        encoder.encode(row)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize("type_text", ["DECIMAL(6,3)", "DECIMAL(3,3)", "DECIMAL(5,0)", "DECIMAL(38,10)"])
@pytest.mark.parametrize(
    "text",
    [
        "1.5",
        "1.500",
        "-0.000",
        "0",
        "-0",
        "0E-7",
        "1E+2",
        "123.456",
        "999.999",
        "99999",
        "100000",
        "1000.000",
        "0.0001",
        "0.1000",
        "-12.3456789",
        "NaN",
        "-Infinity",
        "1.000E-3",
        "12345678901234567890123.4",
    ],
)
def test_decimals_set_on_a_model_give_the_reference_text_or_error(type_text: str, text: str) -> None:
    model = model_class(schema_from_ddl(f"d {type_text}", "main.default.decimals"))
    row: Any = model()
    row.d = Decimal(text)  # after validation: every text reaches the converters, also the invalid ones
    try:
        expected: Any = _reference_wire(row)
    except InvalidRecordError as error:
        expected = (error.field, error.reason)
    try:
        got: Any = row.to_wire()
    except InvalidRecordError as error:
        got = (error.field, error.reason)
    assert got == expected
    if isinstance(expected, dict):
        assert row.to_proto_bytes() == _reference_proto_bytes(row)
        assert _fast_bytes(row) == _reference_proto_bytes(row)
