"""Every record shape, PROTO and JSON, on both drivers; bad records fail at the ingest call."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from types import ModuleType
from typing import Any

import pydantic
import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.codegen.runtime_model import model_class
from zerobus.errors import InvalidRecordError
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import RecordType, StreamState, TableProperties

RICH_DDL = (
    "id BIGINT NOT NULL, name STRING, day DATE, at TIMESTAMP, amount DECIMAL(10,2), "
    "tags ARRAY<STRING>, attrs MAP<STRING,INT>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>, small TINYINT, raw BINARY"
)
UTC = dt.timezone.utc


class PlainEvent(pydantic.BaseModel):
    """A user's own Pydantic model (not generated): fields named like the columns."""

    id: int
    name: str | None = None


def _open(driver: Any, server: Any, table: str, descriptor: Any = None, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


def test_compiled_pb2_uses_exactly_the_given_message(
    driver: Any, zerobus_server: Any, events_table: str, events_pb2: ModuleType
) -> None:
    """The official SDK took the first message of the descriptor's file; we take the one given."""
    stream = _open(driver, zerobus_server, events_table, events_pb2.Event.DESCRIPTOR)
    records = [events_pb2.Event(id=i, name=f"pb{i}") for i in range(5)]
    driver.ingest_all(stream, "ingest_record_offset", records)
    stream.ingest_record_offset(events_pb2.Event(id=5).SerializeToString())  # bytes pass through
    stream.ingest_record_offset({"id": 6, "name": "dict"})  # dicts become that message
    stream.ingest_record_offset(PlainEvent(id=7, name="model"))
    stream.ingest_record_offset('{"id": 8}')  # JSON object text
    with pytest.raises(InvalidRecordError, match=r"tests.sdk.Event"):
        stream.ingest_record_offset(events_pb2.Unrelated(something_else="x"))
    stream.close()
    rows = zerobus_server.rows(events_table)
    assert ids(rows) == list(range(9))
    assert {row["name"] for row in rows} >= {"pb0", "dict", "model"}


def test_no_descriptor_reads_the_schema_from_unity_catalog(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(RICH_DDL)
    stream = _open(driver, zerobus_server, table)  # PROTO by default, schema from UC
    record = {
        "id": 1,
        "name": "rich",
        "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        "amount": decimal.Decimal("12.3"),
        "tags": ["a", "b"],
        "attrs": {"k": 7},
        "loc": {"lat": 1.5, "lon": -2.25},
        "small": -5,
        "raw": b"\x00\xff",
    }
    stream.ingest_record_offset(record)
    stream.ingest_record_offset({"id": 2})  # nullable columns left out
    with pytest.raises(InvalidRecordError, match=r"'small'.*TINYINT"):
        stream.ingest_record_offset({"id": 3, "small": 300})
    with pytest.raises(InvalidRecordError, match="'tags'"):
        stream.ingest_record_offset({"id": 3, "tags": "not a list"})
    with pytest.raises(InvalidRecordError, match=r"'id'.*NOT NULL"):
        stream.ingest_record_offset({"name": "no id"})
    with pytest.raises(InvalidRecordError, match="'amount'"):
        stream.ingest_record_offset({"id": 3, "amount": decimal.Decimal("1.234")})
    assert stream.get_state() is StreamState.OPENED  # bad records never reached the server
    stream.close()
    rows = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == [1, 2]
    first = rows[0]
    assert first["day"] == dt.date(2024, 2, 29)
    assert first["at"] == dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert decimal.Decimal(str(first["amount"])) == decimal.Decimal("12.30")
    assert first["tags"] == ["a", "b"] and first["attrs"] == {"k": 7}
    assert first["loc"] == {"lat": 1.5, "lon": -2.25} and first["small"] == -5 and first["raw"] == b"\x00\xff"


def test_generated_model_and_table_schema(driver: Any, zerobus_server: Any, zerobus_table: Any) -> None:
    table = zerobus_table(RICH_DDL)
    schema = schema_from_ddl(RICH_DDL, table)
    model = model_class(schema)
    stream = _open(driver, zerobus_server, table, model)
    stream.ingest_record_offset(model(id=1, day=dt.date(2020, 1, 1), tags=["x"]))
    stream.ingest_records_offset([model(id=2), {"id": 3, "amount": "4.5"}])
    stream.close()
    by_schema = _open(driver, zerobus_server, table, schema)
    by_schema.ingest_record_offset({"id": 4, "at": dt.datetime(2021, 5, 6, tzinfo=UTC)})
    by_schema.ingest_record_offset(model(id=5))
    by_schema.close()
    rows = {row["id"]: row for row in zerobus_server.rows(table)}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert rows[1]["day"] == dt.date(2020, 1, 1) and rows[1]["tags"] == ["x"]
    assert decimal.Decimal(str(rows[3]["amount"])) == decimal.Decimal("4.50")
    assert rows[4]["at"] == dt.datetime(2021, 5, 6, tzinfo=UTC)


def test_json_stream_takes_text_dicts_and_models(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(RICH_DDL)
    stream = _open(driver, zerobus_server, table, record_type=RecordType.JSON)
    stream.ingest_record_offset(json.dumps({"id": 1, "name": "text", "day": 19000}))
    stream.ingest_record_offset(
        {"id": 2, "day": dt.date(2024, 1, 1), "raw": b"ab", "amount": decimal.Decimal("1.5")}
    )
    stream.ingest_record_offset(PlainEvent(id=3, name="model"))
    stream.ingest_records_offset(['{"id": 4}', {"id": 5}])
    stream.close()
    rows = {row["id"]: row for row in zerobus_server.rows(table)}
    assert sorted(rows) == [1, 2, 3, 4, 5]
    assert rows[1]["day"] == dt.date(1970, 1, 1) + dt.timedelta(days=19000)
    assert rows[2]["day"] == dt.date(2024, 1, 1) and rows[2]["raw"] == b"ab"
    assert rows[3]["name"] == "model"


def test_json_stream_with_a_schema_checks_records(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(RICH_DDL)
    schema = schema_from_ddl(RICH_DDL, table)
    stream = _open(driver, zerobus_server, table, schema, record_type=RecordType.JSON)
    stream.ingest_record_offset({"id": 1, "at": dt.datetime(2024, 1, 1, tzinfo=UTC)})
    with pytest.raises(InvalidRecordError, match="'day'"):
        stream.ingest_record_offset('{"id": 2, "day": "2024-01-01"}')  # the server would answer 4044
    with pytest.raises(InvalidRecordError, match="unknown field"):
        stream.ingest_record_offset({"id": 2, "nope": 1})
    stream.close()
    assert ids(zerobus_server.rows(table)) == [1]


def test_unspecified_record_type_infers_json_without_descriptor(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    stream = _open(driver, zerobus_server, events_table, record_type=RecordType.UNSPECIFIED)
    stream.ingest_record_offset('{"id": 1, "name": "json"}')
    stream.close()
    assert zerobus_server.rows(events_table) == [{"id": 1, "name": "json"}]
