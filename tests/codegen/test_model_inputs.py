"""Pydantic models read raw DATE/TIMESTAMP/DECIMAL values exactly as the dict path does.

Pydantic alone would read an integer for a datetime as Unix seconds and take floats for
Decimals; the models follow the table contract instead, so a value is accepted (with the same
wire value) or refused (with the same reason) whichever way it is given.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pydantic
import pytest

from zerobus.codegen import model_class
from zerobus.errors import InvalidRecordError
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.records import codec

SCHEMA = schema_from_ddl(
    "id BIGINT NOT NULL, at TIMESTAMP, wall TIMESTAMP_NTZ, day DATE, amount DECIMAL(5,2), "
    "times ARRAY<TIMESTAMP>, prices MAP<STRING, DECIMAL(5,2)>, s STRUCT<at: TIMESTAMP>",
    "main.tests.inputs",
)
NOW = dt.datetime(2024, 11, 28, 8, 0, tzinfo=dt.timezone.utc)
NOW_S = int(NOW.timestamp())
NOW_US = NOW_S * 1_000_000
DAYS = (dt.date(2024, 11, 28) - dt.date(1970, 1, 1)).days

CASES: list[tuple[str, Any]] = [
    ("at", NOW_US),
    ("at", NOW_S),
    ("at", NOW_S * 1000),
    ("at", NOW_US * 1000),
    ("at", "2024-11-28T08:00:00Z"),
    ("at", str(NOW_S)),
    ("at", float(NOW_S)),
    ("wall", NOW_US),
    ("wall", NOW_S),
    ("day", DAYS),
    ("day", NOW_S),
    ("day", "2024-11-28"),
    ("amount", decimal.Decimal("1.25")),
    ("amount", "1.25"),
    ("amount", 3),
    ("amount", 0.1),
    ("amount", 1.25),
    ("times", [NOW_US, NOW_S]),
    ("prices", {"a": 0.5}),
    ("s", {"at": NOW_S}),
    ("s", {"at": NOW_US}),
]


def _outcome(make: Any) -> tuple[str, Any]:
    try:
        return "ok", make()
    except (InvalidRecordError, pydantic.ValidationError) as error:
        text = str(error)
        reason = (
            text.split("invalid record: ", 1)[1].split(" (got", 1)[0] if "invalid record" in text else text
        )
        return "refused", reason


@pytest.mark.parametrize(("column", "value"), CASES)
def test_models_and_dicts_agree_on_raw_values(column: str, value: Any) -> None:
    model = model_class(SCHEMA)
    row = {"id": 1, column: value}
    by_model = _outcome(lambda: model.model_validate(row).to_wire())
    by_dict = _outcome(lambda: codec(SCHEMA).row_to_wire(row))
    assert by_model == by_dict


def test_model_integers_are_wire_units_and_wrong_units_are_refused() -> None:
    model = model_class(SCHEMA)
    record = model(id=1, at=NOW_US, day=DAYS, times=[NOW_US])
    assert record.at == NOW  # type: ignore[attr-defined]
    assert record.day == dt.date(2024, 11, 28)  # type: ignore[attr-defined]
    with pytest.raises(
        pydantic.ValidationError, match=r"field 'at': looks like epoch seconds \(2024-11-28T08:00:00Z\)"
    ):
        model(id=1, at=NOW_S)
    with pytest.raises(
        pydantic.ValidationError, match=r"field 'day': looks like epoch seconds \(2024-11-28\)"
    ):
        model(id=1, day=NOW_S)
    with pytest.raises(pydantic.ValidationError, match=r"field 'times\[1\]': looks like epoch milliseconds"):
        model(id=1, times=[NOW_US, NOW_S * 1000])


def test_model_decimals_refuse_floats_with_the_fix() -> None:
    model = model_class(SCHEMA)
    with pytest.raises(
        pydantic.ValidationError, match=r"field 'amount': a float cannot be given .*Decimal\(str\(x\)\)"
    ):
        model(id=1, amount=0.1)
    with pytest.raises(pydantic.ValidationError, match=r"field 'prices\['a'\]': a float cannot be given"):
        model(id=1, prices={"a": 0.5})
    assert model(id=1, amount="0.10").to_wire()["amount"] == "0.10"
