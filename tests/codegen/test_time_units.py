"""Integers for TIMESTAMP and DATE in the wrong unit are refused; a declared unit converts them.

The rule (`zerobus.schema.time_units`) applies wherever Python values become wire values:
`to_wire` (the dict paths of the SDK), parsed JSON text (`wire_units`), and the Pydantic models.
Wire checks (the local server) keep the wire contract: any in-range integer is a wire value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zerobus.errors import InvalidRecordError
from zerobus.schema.epoch import datetime_to_micros
from zerobus.schema.ir import (
    ArrayType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
)
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.python_to_wire import to_wire
from zerobus.schema.time_units import IntegerUnits
from zerobus.schema.wire_checks import wire_check
from zerobus.schema.wire_units import row_units_converter

TIMESTAMP = PrimitiveType(Primitive.TIMESTAMP)
DATE = PrimitiveType(Primitive.DATE)
NOW = dt.datetime(2024, 11, 28, 8, 0, tzinfo=dt.timezone.utc)
NOW_S = int(NOW.timestamp())
NOW_US = datetime_to_micros(NOW)


@pytest.mark.parametrize(
    ("value", "looks_like", "fix"),
    [
        (NOW_S, "epoch seconds (2024-11-28T08:00:00Z)", "timestamp_unit='s'"),
        (NOW_S * 1000, "epoch milliseconds (2024-11-28T08:00:00Z)", "timestamp_unit='ms'"),
        (NOW_US * 1000, "epoch nanoseconds (2024-11-28T08:00:00Z)", "timestamp_unit='ns'"),
        (0, "epoch seconds (1970-01-01T00:00:00Z)", "timestamp_unit='s'"),
        (-NOW_S, "epoch seconds", "timestamp_unit='s'"),
        (10**11 - 1, "epoch seconds", "timestamp_unit='s'"),
        (10**11, "epoch milliseconds", "timestamp_unit='ms'"),
        (10**13 - 1, "epoch milliseconds", "timestamp_unit='ms'"),
        (10**17, "epoch nanoseconds", "timestamp_unit='ns'"),
    ],
)
@pytest.mark.parametrize("primitive", [Primitive.TIMESTAMP, Primitive.TIMESTAMP_NTZ])
def test_timestamp_integers_of_another_unit_are_refused_naming_the_unit_and_the_fix(
    value: int, looks_like: str, fix: str, primitive: Primitive
) -> None:
    with pytest.raises(InvalidRecordError) as raised:
        to_wire(PrimitiveType(primitive), "measured_at")(value)
    message = str(raised.value)
    assert "field 'measured_at'" in message
    assert f"looks like {looks_like}" in message
    assert fix in message
    assert "microseconds" in message


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(1970, 4, 27, tzinfo=dt.timezone.utc),
        dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
        NOW,
        dt.datetime(2262, 4, 11, tzinfo=dt.timezone.utc),
        dt.datetime(5000, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(1969, 9, 6, tzinfo=dt.timezone.utc),
        dt.datetime(1900, 1, 1, tzinfo=dt.timezone.utc),
        dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc),
    ],
)
def test_microseconds_away_from_the_epoch_are_accepted_as_they_are(moment: dt.datetime) -> None:
    micros = datetime_to_micros(moment)
    assert to_wire(TIMESTAMP, "t")(micros) == micros


@pytest.mark.parametrize(
    ("unit", "value", "micros"),
    [
        ("s", NOW_S, NOW_US),
        ("ms", NOW_S * 1000, NOW_US),
        ("us", NOW_US, NOW_US),
        ("ns", NOW_US * 1000, NOW_US),
        ("us", 0, 0),  # a deliberate epoch: the declared wire unit turns the check off
        ("us", 5, 5),
        ("s", 0, 0),
    ],
)
def test_a_declared_timestamp_unit_converts_instead(unit: Any, value: int, micros: int) -> None:
    assert to_wire(TIMESTAMP, "t", units=IntegerUnits(timestamp=unit))(value) == micros


def test_declared_units_still_refuse_what_cannot_be_exact_or_in_range() -> None:
    with pytest.raises(InvalidRecordError, match="below a microsecond"):
        to_wire(TIMESTAMP, "t", units=IntegerUnits(timestamp="ns"))(NOW_US * 1000 + 1)
    with pytest.raises(InvalidRecordError, match="out of range"):
        to_wire(TIMESTAMP, "t", units=IntegerUnits(timestamp="s"))(10**15)
    with pytest.raises(InvalidRecordError, match="not at UTC midnight"):
        to_wire(DATE, "d", units=IntegerUnits(date="s"))(NOW_S)
    with pytest.raises(ValueError, match="timestamp unit"):
        IntegerUnits(timestamp="minutes")  # type: ignore[arg-type]


def test_date_integers_are_days_and_seconds_or_millis_are_refused_or_converted() -> None:
    midnight_s = int(dt.datetime(2024, 11, 28, tzinfo=dt.timezone.utc).timestamp())
    days = (dt.date(2024, 11, 28) - dt.date(1970, 1, 1)).days
    assert to_wire(DATE, "d")(days) == days
    assert to_wire(DATE, "d")(0) == 0
    for value, unit in ((midnight_s, "seconds"), (midnight_s * 1000, "milliseconds")):
        with pytest.raises(InvalidRecordError, match=f"field 'd': looks like epoch {unit} \\(2024-11-28\\)"):
            to_wire(DATE, "d")(value)
    assert to_wire(DATE, "d", units=IntegerUnits(date="s"))(midnight_s) == days
    assert to_wire(DATE, "d", units=IntegerUnits(date="ms"))(midnight_s * 1000) == days


def test_the_rule_reaches_nested_arrays_maps_and_structs() -> None:
    nested = StructType(
        (
            StructField("at", TIMESTAMP),
            StructField("times", ArrayType(TIMESTAMP)),
            StructField("by_name", MapType(StringType(), DATE)),
        )
    )
    convert = to_wire(nested, "loc")
    with pytest.raises(InvalidRecordError, match=r"field 'loc\.at': looks like epoch seconds"):
        convert({"at": NOW_S})
    with pytest.raises(InvalidRecordError, match=r"field 'loc\.times\[1\]': looks like epoch milliseconds"):
        convert({"times": [NOW_US, NOW_S * 1000]})
    with pytest.raises(InvalidRecordError, match=r"field 'loc\.by_name\['x'\]': looks like epoch seconds"):
        convert({"by_name": {"x": NOW_S}})
    declared = to_wire(nested, "loc", units=IntegerUnits(timestamp="s"))
    assert declared({"at": NOW_S, "times": [NOW_S]}) == {"at": NOW_US, "times": [NOW_US]}


def test_parsed_json_rows_get_the_same_rule() -> None:
    schema = schema_from_ddl("id BIGINT, at TIMESTAMP, days ARRAY<DATE>, s STRUCT<at: TIMESTAMP>", "t")
    automatic = row_units_converter(schema, IntegerUnits())
    assert automatic is not None
    row = {"id": NOW_S, "at": NOW_US, "days": [1, 2], "s": {"at": NOW_US}}
    assert automatic(row) is row  # nothing changed: the caller's text can be sent as it is
    with pytest.raises(InvalidRecordError, match=r"field 's\.at': looks like epoch seconds"):
        automatic({"s": {"at": NOW_S}})
    declared = row_units_converter(schema, IntegerUnits(timestamp="ms"))
    assert declared is not None
    assert declared({"at": NOW_S * 1000, "s": {"at": NOW_S * 1000}}) == {"at": NOW_US, "s": {"at": NOW_US}}
    assert row_units_converter(schema_from_ddl("id BIGINT", "t"), IntegerUnits()) is None


def test_wire_checks_keep_the_wire_contract() -> None:
    """The local server, like the service, takes any in-range integer: the unit check is the SDK's."""
    check = wire_check(TIMESTAMP, "t", json_mode=True)
    assert check is not None
    check(NOW_S)
    date_check = wire_check(DATE, "d", json_mode=True)
    assert date_check is not None
    date_check(0)


def test_timestamp_map_keys_get_the_rule_too() -> None:
    keyed = MapType(TIMESTAMP, StringType())
    with pytest.raises(InvalidRecordError, match=r"field 'm\{1732780800\}': looks like epoch seconds"):
        to_wire(keyed, "m")({NOW_S: "x"})
    assert to_wire(keyed, "m")({NOW_US: "x"}) == {NOW_US: "x"}
    schema = schema_from_ddl("m MAP<TIMESTAMP, STRING>", "t")
    automatic = row_units_converter(schema, IntegerUnits())
    assert automatic is not None
    with pytest.raises(InvalidRecordError, match=r"field 'm\{'1732780800'\}': looks like epoch seconds"):
        automatic({"m": {str(NOW_S): "x"}})
    row = {"m": {str(NOW_US): "x"}}
    assert automatic(row) is row
    declared = row_units_converter(schema, IntegerUnits(timestamp="s"))
    assert declared is not None
    assert declared({"m": {str(NOW_S): "x", "k": "y"}}) == {"m": {str(NOW_US): "x", "k": "y"}}
