"""The compiled encoder's own protobuf writing (`wire_format`, `model_proto`) at every edge it has.

The generated function writes tags, varints, lengths and fixed-width numbers itself, with
different code for different value sizes (one-byte tables, inline 14-bit groups, the checked
writer); each size class and each border between two of them must give the bytes the protobuf
runtime gives, on every column kind, inside structs, arrays and maps.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.wire_compare import assert_same_record
from zerobus.codegen import ZerobusModel, model_class, schema_from_ddl, wire_format
from zerobus.codegen.model_base import _reference_proto_bytes
from zerobus.codegen.model_proto import proto_encoder
from zerobus.errors import InvalidRecordError
from zerobus.schema.descriptor import message_class

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DATE = dt.date(1970, 1, 1)
# Every border between two of the writer's size classes, and the ends of the ranges.
BORDERS = sorted(
    {0, 1, 2**63 - 1, -(2**63)}
    | {sign * (2**bits + delta) for bits in (7, 14, 28, 42, 56) for delta in (-1, 0) for sign in (1, -1)}
    | {-128, -129, 127, 128, 2**31 - 1, -(2**31)}
)
INT32_BORDERS = [n for n in BORDERS if -(2**31) <= n < 2**31]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _refuse(instance: Any) -> bytes:
    raise AssertionError(f"the compiled encoder gave up on a valid {type(instance).__name__}")


def _compiled_bytes(row: ZerobusModel) -> bytes:
    model = type(row)
    encode = proto_encoder(model, model.zerobus_schema().as_struct(), model.message_class(), _refuse)
    return encode(row)


def _assert_reference_bytes(row: ZerobusModel) -> None:
    assert_same_record(_compiled_bytes(row), _reference_proto_bytes(row), type(row).message_class())
    assert_same_record(row.to_proto_bytes(), _reference_proto_bytes(row), type(row).message_class())


# --- the writers against the protobuf runtime ------------------------------------------------------

VARINT_MESSAGE = message_class(schema_from_ddl("big BIGINT, n INT", "main.default.varints"))


@SETTINGS
@given(st.sampled_from(BORDERS) | st.integers(-(2**63), 2**63 - 1))
def test_int64_varints_are_the_runtime_bytes(value: int) -> None:
    expected = VARINT_MESSAGE(big=value).SerializeToString()
    assert wire_format.tag(1, wire_format.WireType.VARINT) + wire_format.varint64(value) == expected


@SETTINGS
@given(st.sampled_from(INT32_BORDERS) | st.integers(-(2**31), 2**31 - 1))
def test_int32_varints_are_the_runtime_bytes(value: int) -> None:
    expected = VARINT_MESSAGE(n=value).SerializeToString()
    assert wire_format.tag(2, wire_format.WireType.VARINT) + wire_format.varint32(value) == expected
    if -128 <= value < 128:
        assert wire_format.small_integers(wire_format.tag(2, wire_format.WireType.VARINT))[value] == expected


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64, True, 1.0, "1", None])
def test_the_checked_int64_writer_refuses_what_the_runtime_refuses(value: Any) -> None:
    with pytest.raises(wire_format.GiveUp):
        wire_format.varint64(value)


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, False, 2.0])
def test_the_checked_int32_writer_refuses_what_the_runtime_refuses(value: Any) -> None:
    with pytest.raises(wire_format.GiveUp):
        wire_format.varint32(value)


# --- integers of every column kind, at every border --------------------------------------------------

INTEGERS_DDL = (
    "tiny TINYINT, small SMALLINT, n INT NOT NULL, big BIGINT, day DATE, at TIMESTAMP, wall TIMESTAMP_NTZ, "
    "bigs ARRAY<BIGINT>, keyed MAP<BIGINT, INT>, inner STRUCT<at: TIMESTAMP, day DATE, n INT>, "
    "times ARRAY<TIMESTAMP>"
)
_MICROS_LOW = (dt.datetime.min - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
_MICROS_HIGH = (dt.datetime.max - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
_DAYS_LOW, _DAYS_HIGH = (dt.date.min - EPOCH_DATE).days, (dt.date.max - EPOCH_DATE).days


def _ranged(low: int, high: int) -> st.SearchStrategy[int]:
    return st.sampled_from([n for n in BORDERS if low <= n <= high] + [low, high]) | st.integers(low, high)


_micros = _ranged(_MICROS_LOW, _MICROS_HIGH)
_aware = _micros.map(lambda us: EPOCH + dt.timedelta(microseconds=us))
_naive = _micros.map(lambda us: dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us))
_dates = _ranged(_DAYS_LOW, _DAYS_HIGH).map(lambda days: EPOCH_DATE + dt.timedelta(days=days))
_int32 = _ranged(-(2**31), 2**31 - 1)
_int64 = _ranged(-(2**63), 2**63 - 1)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "tiny": _ranged(-128, 127),
            "small": _ranged(-(2**15), 2**15 - 1),
            "n": _int32,
            "big": _int64,
            "day": _dates,
            "at": _aware,
            "wall": _naive,
            "bigs": st.lists(_int64, max_size=3),
            "keyed": st.dictionaries(_int64, _int32, max_size=3),
            "inner": st.fixed_dictionaries({"at": _aware, "day": _dates, "n": _int32}),
            "times": st.lists(_aware, max_size=3),
        }
    )
)
def test_integers_of_every_size_give_the_reference_bytes(values: dict[str, Any]) -> None:
    model = model_class(schema_from_ddl(INTEGERS_DDL, "main.default.integers"))
    _assert_reference_bytes(model.model_validate(values))


@pytest.mark.parametrize("border", BORDERS)
def test_every_border_in_every_integer_column_gives_the_reference_bytes(border: int) -> None:
    def clip(low: int, high: int) -> int:
        return min(max(border, low), high)

    at = EPOCH + dt.timedelta(microseconds=clip(_MICROS_LOW, _MICROS_HIGH))
    day = EPOCH_DATE + dt.timedelta(days=clip(_DAYS_LOW, _DAYS_HIGH))
    n = clip(-(2**31), 2**31 - 1)
    model = model_class(schema_from_ddl(INTEGERS_DDL, "main.default.integers"))
    row = model.model_validate(
        {
            "tiny": clip(-128, 127),
            "small": clip(-(2**15), 2**15 - 1),
            "n": n,
            "big": border,
            "day": day,
            "at": at,
            "wall": at.replace(tzinfo=None),
            "bigs": [border],
            "keyed": {border: n},
            "inner": {"at": at, "day": day, "n": n},
            "times": [at],
        }
    )
    _assert_reference_bytes(row)


# --- lengths: text, bytes and map entries around one-byte lengths ------------------------------------

TEXT_DDL = (
    "s STRING, raw BINARY, code VARCHAR(200), tags MAP<STRING, STRING>, price DECIMAL(38,2), doc VARIANT"
)
# One-, two-, three- and four-byte UTF-8, so character and byte counts differ.
_texts = st.text(alphabet=st.sampled_from("ab~é€𝄞"), max_size=150)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {
            "s": _texts,
            "raw": st.binary(min_size=120, max_size=140) | st.binary(max_size=3),
            "code": st.text(alphabet="xé", max_size=200),
            "tags": st.dictionaries(_texts, _texts, max_size=4),
            "price": st.integers(-(10**36), 10**36).map(lambda n: Decimal(n).scaleb(-2)),
            "doc": st.text(alphabet="ab", min_size=120, max_size=140).map(lambda t: {"k": t}),
        }
    )
)
def test_lengths_around_one_byte_give_the_reference_bytes(values: dict[str, Any]) -> None:
    model = model_class(schema_from_ddl(TEXT_DDL, "main.default.lengths"))
    _assert_reference_bytes(model.model_validate(values))


@pytest.mark.parametrize(
    ("key_size", "value_size"), [(60, 63), (60, 64), (0, 123), (0, 124), (127, 0), (128, 1)]
)
def test_map_entries_on_both_sides_of_the_one_byte_entry_length(key_size: int, value_size: int) -> None:
    model = model_class(schema_from_ddl(TEXT_DDL, "main.default.lengths"))
    _assert_reference_bytes(model(tags={"k" * key_size: "v" * value_size}))


def test_map_entries_are_written_in_the_dicts_order() -> None:
    model: Any = model_class(schema_from_ddl("tags MAP<STRING, STRING>", "main.default.ordered"))
    row = model(tags={"b": "2", "a": "1"})
    assert row.to_proto_bytes() == b"\n\x06\n\x01b\x12\x012" + b"\n\x06\n\x01a\x12\x011"
    assert model.from_proto_bytes(row.to_proto_bytes()).tags == {"b": "2", "a": "1"}


# --- structs of doubles: one pack call, and every instance that cannot take it ----------------------

POINT_DDL = "name STRING, spot STRUCT<lat: DOUBLE, lon: DOUBLE>, pts ARRAY<STRUCT<x: DOUBLE NOT NULL>>"


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, -1e308, 5e-324, math.inf, -math.inf, math.nan, None])
def test_structs_of_doubles_give_the_reference_bytes(value: float | None) -> None:
    model = model_class(schema_from_ddl(POINT_DDL, "main.default.points"))
    _assert_reference_bytes(
        model.model_validate({"spot": {"lat": value, "lon": 2.0}, "pts": [{"x": 1.0}, {"x": -2.5}]})
    )


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the reference dump's, expected here
def test_struct_members_changed_after_validation_take_the_general_lines() -> None:
    model = model_class(schema_from_ddl(POINT_DDL, "main.default.points"))
    row: Any = model.model_validate({"spot": {"lat": 1.0, "lon": 2.0}})
    row.spot.lat = 3  # an int: converted, as the reference path does
    assert row.to_proto_bytes() == _reference_proto_bytes(row)
    row.spot.lon = "east"
    with pytest.raises(InvalidRecordError) as caught:
        row.to_proto_bytes()
    assert caught.value.field == "spot.lon"


@pytest.mark.parametrize("depth", [19, 24, 30])
def test_arrays_nested_deeper_than_python_compiles_take_the_reference_path(depth: int) -> None:
    column_type = "INT"
    for level in range(depth):
        column_type = f"ARRAY<STRUCT<a{level}: {column_type}>>"
    model = model_class(schema_from_ddl(f"x {column_type}", "main.default.deep"))
    value: Any = 7
    for level in range(depth):
        value = [{f"a{level}": value}]
    row: Any = model.model_validate({"x": value})
    assert row.to_proto_bytes() == _reference_proto_bytes(row)
    assert model.from_proto_bytes(row.to_proto_bytes()) == row
