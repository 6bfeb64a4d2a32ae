"""The generated model -> record bytes function (`zerobus.codegen.model_proto`) against the reference path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, field_serializer

from tests.codegen.codegen_strategies import rows, schemas
from tests.codegen.test_model_fast import DDL, ROW
from tests.codegen.wire_compare import assert_same_record
from zerobus.codegen import TableSchema, ZerobusModel, model_class, schema_from_ddl
from zerobus.codegen.model_base import _reference_proto_bytes, _reference_wire
from zerobus.codegen.model_proto import proto_encoder
from zerobus.errors import InvalidRecordError
from zerobus.quickstart import AIR_QUALITY_DDL, make_records


def _refuse(instance: Any) -> bytes:
    raise AssertionError(f"the compiled encoder gave up on a valid {type(instance).__name__}")


def _compiled_bytes(row: ZerobusModel) -> bytes:
    """The generated function alone: it must not give up on a valid model."""
    model = type(row)
    row_codec = model.zerobus_codec()
    struct = model.zerobus_schema().as_struct()
    encode = proto_encoder(model, struct, row_codec.message_class, _refuse)
    assert encode is not _refuse
    return encode(row)


def test_every_column_kind_gives_the_reference_bytes_without_giving_up() -> None:
    row = model_class(schema_from_ddl(DDL, "main.default.compiled"))(**ROW)
    assert _compiled_bytes(row) == _reference_proto_bytes(row)
    assert row.to_proto_bytes() == _reference_proto_bytes(row)


def test_the_quickstart_model_gives_the_reference_bytes_without_giving_up() -> None:
    model = model_class(schema_from_ddl(AIR_QUALITY_DDL, "main.default.air_quality"))
    for row in make_records(model, 200, seed=3):
        assert_same_record(_compiled_bytes(row), _reference_proto_bytes(row), model.message_class())


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_valid_models_give_the_reference_bytes_without_giving_up(data: st.DataObject) -> None:
    schema: TableSchema = data.draw(schemas())
    model = model_class(schema)
    try:
        row = model.model_validate(data.draw(rows(schema)))
    except ValidationError:
        assume(False)  # the row strategy speaks the dict path; a few of its values are not model inputs
        raise
    assert_same_record(_compiled_bytes(row), _reference_proto_bytes(row), model.message_class())


def test_maps_of_structs_and_awkward_names_give_the_reference_bytes() -> None:
    ddl = (
        "`class` MAP<STRING, STRING>, `from` INT NOT NULL, ListFields MAP<STRING, INT>, "
        "deep MAP<STRING, STRUCT<a: INT, `in`: MAP<INT, STRING>>>, "
        "inner STRUCT<`def`: DECIMAL(4,4), pts ARRAY<STRUCT<x: DOUBLE>>>"
    )
    model = model_class(schema_from_ddl(ddl, "main.default.awkward"))
    row = model.model_validate(
        {
            "class": {"k": "v", "k2": "w"},
            "from": 3,
            "ListFields": {"a": 1},
            "deep": {"x": {"a": 1, "in": {2: "two"}}},
            "inner": {"def": Decimal("0.1234"), "pts": [{"x": 1.5}]},
        }
    )
    assert_same_record(_compiled_bytes(row), _reference_proto_bytes(row), model.message_class())
    decoded: Any = model.from_proto_bytes(row.to_proto_bytes())
    assert decoded.model_dump(by_alias=True) == row.model_dump(by_alias=True)


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the reference dump's, expected here
@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ({"k": "lone \ud800"}, "tags['k']", "surrogate"),
        ({"k": b"v"}, "tags['k']", "expected a string"),
        ({1: "v"}, "tags", "expected a string"),
        ({"k": None}, "tags['k']", "cannot be null"),
        ([("k", "v")], "tags", ""),
    ],
)
def test_map_entries_changed_after_validation_get_the_reference_error(
    value: Any, field: str, reason: str
) -> None:
    row: Any = model_class(schema_from_ddl(DDL, "main.default.maps"))(**ROW)
    row.tags = value
    with pytest.raises(InvalidRecordError) as caught:
        _reference_proto_bytes(row)
    with pytest.raises(InvalidRecordError) as compiled:
        row.to_proto_bytes()
    assert (compiled.value.field, compiled.value.reason) == (caught.value.field, caught.value.reason)
    assert caught.value.field.startswith(field) and reason in caught.value.reason


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize(
    "type_text",
    ["DECIMAL(6,3)", "DECIMAL(3,3)", "DECIMAL(38,10)", "DECIMAL(1,1)", "DECIMAL(10,4)", "DECIMAL(12,6)"],
)
@pytest.mark.parametrize(
    "text",
    [
        "0.500",
        "-0.000",
        "5.000",
        "1.000E-3",
        "123.456",
        "1234.567",
        "NaN",
        "-Infinity",
        "0.1",
        "-0.9",
        "1E+2",
        # Exponent notation with exactly `scale` characters after the point, for some scale.
        "1.2E+5",
        "1.234E-7",
        "1.2345678E+9",
    ],
)
def test_decimals_set_on_a_model_give_the_reference_bytes_or_error(type_text: str, text: str) -> None:
    model = model_class(schema_from_ddl(f"d {type_text}", "main.default.decimals"))
    row: Any = model()
    row.d = Decimal(text)  # after validation: every text reaches the encoder, also the invalid ones
    try:
        expected: Any = _reference_proto_bytes(row)
    except InvalidRecordError as error:
        expected = (error.field, error.reason)
    try:
        got: Any = row.to_proto_bytes()
    except InvalidRecordError as error:
        got = (error.field, error.reason)
    assert got == expected


def test_a_subclass_does_not_reuse_its_parents_compiled_encoder() -> None:
    base = model_class(schema_from_ddl("name STRING, n INT", "main.default.inherit"))
    assert base(name="quiet", n=1).to_proto_bytes() == _reference_proto_bytes(base(name="quiet", n=1))

    class Shouting(base):  # type: ignore[valid-type, misc]
        @field_serializer("name")
        def _upper(self, value: str | None) -> str | None:
            return value.upper() if value is not None else None

    row: Any = Shouting(name="quiet", n=1)
    assert Shouting.zerobus_proto_encoder() is not base.zerobus_proto_encoder()
    decoded: Any = base.from_proto_bytes(row.to_proto_bytes())
    assert decoded.name == "QUIET"
    assert base.from_wire(row.to_wire()).name == "QUIET"


def test_the_compiled_method_sends_subclasses_made_later_to_their_own_encoder() -> None:
    base = model_class(schema_from_ddl("name STRING, n INT", "main.default.installed"))
    row: Any = base(name="quiet", n=1)
    assert row.to_proto_bytes() == _reference_proto_bytes(row)
    assert "to_proto_bytes" in base.__dict__  # the compiled function is now the method itself
    assert base.to_proto_bytes.__doc__ == ZerobusModel.to_proto_bytes.__doc__

    class Shouting(base):  # type: ignore[valid-type, misc]
        @field_serializer("name")
        def _upper(self, value: str | None) -> str | None:
            return value.upper() if value is not None else None

    assert base.from_proto_bytes(Shouting(name="quiet", n=1).to_proto_bytes()).name == "QUIET"
    assert row.to_proto_bytes() == _reference_proto_bytes(row)


def test_a_to_proto_bytes_written_by_the_user_is_left_alone() -> None:
    base = model_class(schema_from_ddl("name STRING", "main.default.own_method"))

    class Tagged(base):  # type: ignore[valid-type, misc]
        def to_proto_bytes(self) -> bytes:
            return b"mine:" + super().to_proto_bytes()

    class Child(Tagged):
        pass

    for model in (Tagged, Child):
        row: Any = model(name="x")
        model.zerobus_proto_encoder()
        assert row.to_proto_bytes() == b"mine:" + _reference_proto_bytes(row)


@pytest.mark.parametrize("text", ["café ☕", "ascii only", "", "lone \udc80 surrogate", "𝄞 astral"])
def test_text_of_any_script_gives_the_reference_wire_row_and_bytes(text: str) -> None:
    row: Any = model_class(schema_from_ddl(DDL, "main.default.texts"))(**ROW)
    row.name = text  # after validation too: the lone surrogate must reach the check
    for convert, reference in (
        (row.to_wire, lambda: _reference_wire(row)),
        (row.to_proto_bytes, lambda: _reference_proto_bytes(row)),
    ):
        try:
            expected: Any = reference()
        except InvalidRecordError as error:
            expected = (error.field, error.reason)
        try:
            got: Any = convert()
        except InvalidRecordError as error:
            got = (error.field, error.reason)
        assert got == expected
    assert ("surrogate" in str(expected)) == ("\udc80" in text)
