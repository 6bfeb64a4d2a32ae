"""AVRO records on both drivers against the local server: dicts, models and bytes, single and batch,
every Delta type of the codegen contract read back value-exactly; bad records fail at the call."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from typing import Any

import fastavro
import grpc
import pydantic
import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.codegen.runtime_model import model_class
from zerobus.errors import ConfigurationError, InvalidRecordError
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import RecordType, StreamState, TableProperties

UTC = dt.timezone.utc
ALL_TYPES_DDL = (
    "id BIGINT NOT NULL, small TINYINT, short SMALLINT, num INT, ratio FLOAT, score DOUBLE, ok BOOLEAN, "
    "name STRING, code VARCHAR(4), initials CHAR(3), raw BINARY, day DATE, at TIMESTAMP, local TIMESTAMP_NTZ, "
    "amount DECIMAL(10,2), big DECIMAL(38,6), doc VARIANT, tags ARRAY<STRING>, nums ARRAY<BIGINT>, "
    "attrs MAP<STRING,INT>, by_id MAP<INT,STRING>, flags MAP<BOOLEAN,DOUBLE>, "
    "loc STRUCT<lat:DOUBLE,lon:DOUBLE,tag:STRUCT<k:STRING>>, spots ARRAY<STRUCT<x:INT,at:DATE>>"
)
FULL_ROW: dict[str, Any] = {
    "id": 1,
    "small": -128,
    "short": 32767,
    "num": -(2**31),
    "ratio": 1.5,
    "score": -2.000001,
    "ok": True,
    "name": "héllo ✓",
    "code": "abcd",
    "initials": "xyz",
    "raw": b"\x00\xff\x10",
    "day": dt.date(1969, 12, 31),
    "at": dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
    "local": dt.datetime(1900, 1, 1, 0, 0, 0, 1),
    "amount": decimal.Decimal("-12345678.90"),
    "big": decimal.Decimal("99999999999999999999999999999999.999999"),
    "doc": '{"a":[1,2,{"b":null}]}',
    "tags": ["x", "", "z"],
    "nums": [2**63 - 1, -(2**63)],
    "attrs": {"k": 7, "": -1},
    "by_id": {"-5": "minus five", "12": "twelve"},
    "flags": {"true": 0.5, "false": -0.25},
    "loc": {"lat": 1.25, "lon": -2.5, "tag": {"k": "v"}},
    "spots": [{"x": 1, "at": dt.date(2000, 1, 1)}, {"x": -1, "at": None}],
}
READ_BACK = {
    **FULL_ROW,
    "by_id": {-5: "minus five", 12: "twelve"},  # integral and boolean map keys travel as text
    "flags": {True: 0.5, False: -0.25},
}
EVENTS_DDL = "id BIGINT NOT NULL, name STRING, day DATE, amount DECIMAL(8,2)"


class PlainEvent(pydantic.BaseModel):
    id: int
    name: str | None = None
    day: dt.date | None = None
    amount: decimal.Decimal | None = None


def _avro_bytes(schema_text: str, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(json.loads(schema_text)), record)
    return out.getvalue()


def _open(driver: Any, server: Any, table: str, schema_text: str, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id,
        server.client_secret,
        TableProperties(table, avro_schema=schema_text),
        fast_options(**options),
    )


def test_every_delta_type_round_trips_value_exactly(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(ALL_TYPES_DDL)
    schema_text = zerobus_server.table_schema(table).avro_schema()
    stream = _open(driver, zerobus_server, table, schema_text)
    stream.ingest_record_offset(FULL_ROW)
    stream.ingest_record_offset({"id": 2})  # every nullable column left out
    stream.close()
    rows = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    assert rows[0] == READ_BACK
    assert rows[1] == {name: None for name in FULL_ROW} | {"id": 2}


def test_dicts_models_and_bytes_single_and_batch(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(EVENTS_DDL)
    schema = zerobus_server.table_schema(table)
    schema_text = schema.avro_schema()
    generated = model_class(schema)
    stream = _open(driver, zerobus_server, table, schema_text)
    assert stream.ingest_record_offset({"id": 0, "day": dt.date(2024, 1, 2), "amount": "1.5"}) == 0
    stream.ingest_record_offset(PlainEvent(id=1, name="plain", amount=decimal.Decimal("2.25")))
    stream.ingest_record_offset(generated(id=2, name="generated"))
    stream.ingest_record_offset(_avro_bytes(schema_text, {"id": 3, "name": "bytes", "day": 19000}))
    stream.ingest_records_offset(
        [
            {"id": 4},
            PlainEvent(id=5),
            generated(id=6),
            bytearray(_avro_bytes(schema_text, {"id": 7, "amount": decimal.Decimal("-0.01")})),
        ]
    )
    stream.ingest_records_offset([{"id": 8 + i} for i in range(50)])
    stream.close()
    rows = {row["id"]: row for row in zerobus_server.rows(table)}
    assert sorted(rows) == list(range(58))
    assert rows[0]["day"] == dt.date(2024, 1, 2) and rows[0]["amount"] == decimal.Decimal("1.50")
    assert rows[1]["name"] == "plain" and rows[1]["amount"] == decimal.Decimal("2.25")
    assert rows[2]["name"] == "generated"
    assert rows[3]["day"] == dt.date(2022, 1, 8)
    assert rows[7]["amount"] == decimal.Decimal("-0.01")


def test_a_hand_written_schema_with_its_own_names_and_unions(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    """A user's schema: a namespace, nullable unions written [T, null], millis timestamps, fixed decimals."""
    table = zerobus_table("id BIGINT NOT NULL, at TIMESTAMP, price DECIMAL(6,3), label STRING")
    schema_text = json.dumps(
        {
            "type": "record",
            "name": "Trade",
            "namespace": "com.example",
            "fields": [
                {"name": "ID", "type": "long"},
                {"name": "at", "type": [{"type": "long", "logicalType": "timestamp-millis"}, "null"]},
                {
                    "name": "price",
                    "type": {
                        "type": "fixed",
                        "name": "Price",
                        "size": 4,
                        "logicalType": "decimal",
                        "precision": 6,
                        "scale": 3,
                    },
                },
                {"name": "label", "type": {"type": "enum", "name": "Label", "symbols": ["BUY", "SELL"]}},
            ],
        }
    )
    stream = _open(driver, zerobus_server, table, schema_text)
    at = dt.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    stream.ingest_record_offset({"ID": 1, "at": at, "price": decimal.Decimal("-123.456"), "label": "SELL"})
    with pytest.raises(InvalidRecordError, match=r"field 'label'.*not a symbol of enum Label"):
        stream.ingest_record_offset({"ID": 2, "price": 1, "label": "HOLD"})
    with pytest.raises(
        InvalidRecordError, match=r"field 'at'.*holds milliseconds; the datetime has microseconds"
    ):
        stream.ingest_record_offset({"ID": 3, "at": at.replace(microsecond=1), "price": 1, "label": "BUY"})
    with pytest.raises(InvalidRecordError, match=r"field 'price'.*needs 4 integer digits"):
        stream.ingest_record_offset({"ID": 4, "price": 1000, "label": "BUY"})
    stream.close()
    assert zerobus_server.rows(table) == [
        {"id": 1, "at": at, "price": decimal.Decimal("-123.456"), "label": "SELL"}
    ]


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"id": "7"}, "id", "expected an integer for Avro long, got str"),
        ({"name": "x"}, "id", "required field is missing"),
        ({"id": 2**63}, "id", "out of range for Avro long"),
        ({"id": 1, "day": dt.datetime(2024, 1, 1)}, "day", "expected a date for Avro date, got a datetime"),
        ({"id": 1, "amount": 0.1}, "amount", "a float cannot be given"),
        ({"id": 1, "amount": decimal.Decimal("1.234")}, "amount", "has 3 fractional digits"),
        ({"id": 1, "amount": decimal.Decimal("1234567")}, "amount", "needs 7 integer digits"),
        ({"id": 1, "nope": 1}, "nope", "unknown field"),
        ({"id": None}, "id", "null is not allowed|expected an integer"),
    ],
)
def test_bad_records_fail_at_the_call_naming_field_value_and_reason(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record: dict[str, Any], field: str, reason: str
) -> None:
    table = zerobus_table(EVENTS_DDL)
    stream = _open(driver, zerobus_server, table, zerobus_server.table_schema(table).avro_schema())
    with pytest.raises(InvalidRecordError, match=rf"field '{field}': ({reason})") as caught:
        stream.ingest_record_offset(record)
    assert caught.value.field == field
    with pytest.raises(InvalidRecordError, match=rf"field '{field}'"):
        stream.ingest_records_offset([{"id": 100}, record])
    with pytest.raises(InvalidRecordError, match="takes a dict, a Pydantic model or Avro-encoded bytes"):
        stream.ingest_record_offset('{"id": 1}')
    stream.ingest_record_offset({"id": 1})  # the stream stays healthy
    stream.close()
    assert stream.get_state() is StreamState.CLOSED
    assert ids(zerobus_server.rows(table)) == [1]


def test_server_refuses_an_undecodable_record_with_4044(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(EVENTS_DDL)
    stream = _open(
        driver, zerobus_server, table, zerobus_server.table_schema(table).avro_schema(), recovery=False
    )
    stream.ingest_record_offset({"id": 1})
    stream.flush()
    stream.ingest_record_offset(
        b"\x02\x02\xff"
    )  # id=1, name: union branch 1 (string) with a truncated length
    with pytest.raises(Exception, match=r"Error code 4044: offset \d+: .*not a valid Avro record"):
        stream.flush()
    assert ids(zerobus_server.rows(table)) == [1]


@pytest.mark.parametrize("key", ["x", "+-5", "1.5", "", "٣"])
def test_server_refuses_a_map_key_that_is_not_integer_text(
    driver: Any, zerobus_server: Any, zerobus_table: Any, key: str
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, by_id MAP<INT,STRING>")
    schema_text = zerobus_server.table_schema(table).avro_schema()
    stream = _open(driver, zerobus_server, table, schema_text, recovery=False)
    stream.ingest_record_offset(_avro_bytes(schema_text, {"id": 1, "by_id": {key: "v"}}))
    with pytest.raises(Exception, match=r"Error code 4044: offset 0: .*by_id.*map key must be integer text"):
        stream.flush()
    assert zerobus_server.rows(table) == []


def test_server_refuses_bytes_left_over_after_a_record(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(EVENTS_DDL)
    schema_text = zerobus_server.table_schema(table).avro_schema()
    stream = _open(driver, zerobus_server, table, schema_text, recovery=False)
    stream.ingest_record_offset(_avro_bytes(schema_text, {"id": 1}) + b"\x00")
    with pytest.raises(Exception, match=r"Error code 4044: offset 0: .*1 bytes left over after the record"):
        stream.flush()
    assert zerobus_server.rows(table) == []


def test_server_refuses_a_value_the_table_cannot_hold_with_4044(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    """Avro `int` carries a TINYINT: the range is the server's to check, like for PROTO records."""
    table = zerobus_table("id BIGINT NOT NULL, small TINYINT")
    stream = _open(
        driver, zerobus_server, table, zerobus_server.table_schema(table).avro_schema(), recovery=False
    )
    stream.ingest_records_offset([{"id": 1, "small": 1}, {"id": 2, "small": 300}])
    with pytest.raises(
        Exception, match=r"Error code 4044: offset 0 \(record 1 of the batch\): .*'small'.*TINYINT"
    ):
        stream.flush()
    assert zerobus_server.rows(table) == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ([{"name": "id", "type": "string"}], "column 'id' is bigint but the Avro schema gives it string"),
        ([{"name": "name", "type": "string"}], "column 'id' is NOT NULL but the Avro schema has no field"),
        (
            [{"name": "id", "type": "long"}, {"name": "other", "type": "int"}],
            "'other' of the Avro schema does not exist",
        ),
        (
            [{"name": "id", "type": "long"}, {"name": "day", "type": "int"}],
            "column 'day' is date but the Avro schema gives it int",
        ),
        (
            [
                {"name": "id", "type": "long"},
                {
                    "name": "amount",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 3},
                },
            ],
            "the scale must be equal",
        ),
        ([{"name": "id", "type": ["long", "string"]}], "only unions of null and one type"),
        (
            # Items that take no bytes: a request could claim 2**62 of them and exhaust the server.
            [
                {"name": "id", "type": "long"},
                {
                    "name": "spots",
                    "type": {"type": "array", "items": {"type": "record", "name": "S", "fields": []}},
                },
            ],
            "array items of record take no bytes on the wire",
        ),
        (
            [
                {"name": "id", "type": "long"},
                {
                    "name": "blobs",
                    "type": {"type": "array", "items": {"type": "fixed", "name": "F", "size": 0}},
                },
            ],
            "array items of fixed take no bytes on the wire",
        ),
    ],
)
def test_server_refuses_an_incompatible_writer_schema_like_a_bad_descriptor(
    driver: Any, zerobus_server: Any, zerobus_table: Any, fields: list[Any], reason: str
) -> None:
    from zerobus.errors import NonRetriableException

    table = zerobus_table(EVENTS_DDL + ", spots ARRAY<STRUCT<x:INT>>, blobs ARRAY<BINARY>")
    schema_text = json.dumps({"type": "record", "name": "Event", "fields": fields})
    with pytest.raises(
        NonRetriableException, match=rf"avro_schema incompatible with table '{table}': .*{reason}"
    ):
        _open(driver, zerobus_server, table, schema_text)


def test_record_type_and_table_properties(zerobus_table: Any, zerobus_server: Any, driver: Any) -> None:
    table = zerobus_table(EVENTS_DDL)
    schema = zerobus_server.table_schema(table)
    properties = TableProperties(table, avro_schema=schema.avro_schema())
    assert properties.record_format == "avro" and properties.avro_schema == schema.avro_schema()
    assert TableProperties(table).record_format == "json"
    assert TableProperties(table, schema).record_format == "proto"
    assert int(RecordType.AVRO) == 4
    with pytest.raises(ConfigurationError, match="mutually exclusive"):
        TableProperties(table, schema, schema.avro_schema())
    with pytest.raises(ConfigurationError, match="not JSON text"):
        TableProperties(table, avro_schema="{not json")
    with pytest.raises(ConfigurationError, match="must be an Avro record schema"):
        TableProperties(table, avro_schema='"string"')
    with pytest.raises(TypeError, match="avro_schema must be JSON text"):
        TableProperties(table, avro_schema=5)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        properties.avro_schema = "{}"  # type: ignore[misc]
    with pytest.raises(ConfigurationError, match="record_type JSON does not match"):
        driver.create_stream(
            zerobus_server.client_id,
            zerobus_server.client_secret,
            properties,
            fast_options(record_type=RecordType.JSON),
        )
    # RecordType.AVRO without a schema: the writer schema comes from the table (Unity Catalog).
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table),
        fast_options(record_type=RecordType.AVRO),
    )
    stream.ingest_record_offset({"id": 9, "day": dt.date(2020, 2, 2)})
    stream.close()
    assert zerobus_server.rows(table)[0]["day"] == dt.date(2020, 2, 2)


def test_schema_fastavro_refuses_fails_create_stream(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(EVENTS_DDL)
    bad = json.dumps({"type": "record", "name": "E", "fields": [{"name": "id", "type": "no_such_type"}]})
    with pytest.raises(ConfigurationError, match="not a valid Avro schema"):
        _open(driver, zerobus_server, table, bad)


def test_codegen_schema_is_what_the_server_accepts_for_every_type() -> None:
    schema = schema_from_ddl(ALL_TYPES_DDL, "main.default.all_types")
    parsed = fastavro.parse_schema(json.loads(schema.avro_schema()))
    assert parsed["name"] == "all_types"


def test_a_dropped_call_recovers_and_resends_avro_records(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(EVENTS_DDL)
    zerobus_server.faults.end_call_after(5, grpc.StatusCode.UNAVAILABLE, "injected drop")
    stream = _open(driver, zerobus_server, table, zerobus_server.table_schema(table).avro_schema())
    for i in range(20):
        stream.ingest_record_offset({"id": i, "name": f"n{i}"})
    stream.ingest_records_offset([{"id": 20 + i} for i in range(5)])
    stream.close()
    rows = zerobus_server.rows(table)
    assert set(ids(rows)) == set(range(25))  # at-least-once: resent records may appear twice
    assert zerobus_server.faults.calls_ended >= 1


def test_a_schema_derived_from_the_table_also_checks_what_avro_cannot_say(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    """RecordType.AVRO without a schema: the SDK knows the Delta types, so TINYINT ranges and
    VARCHAR lengths fail at the call (the stream stays healthy), as for the other formats."""
    table = zerobus_table(
        "id BIGINT NOT NULL, small TINYINT, code VARCHAR(3), loc STRUCT<tags:ARRAY<SMALLINT>>"
    )
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table),
        fast_options(record_type=RecordType.AVRO),
    )
    with pytest.raises(InvalidRecordError, match=r"field 'small': out of range for TINYINT"):
        stream.ingest_record_offset({"id": 1, "small": 128})
    with pytest.raises(InvalidRecordError, match=r"field 'code': longer than varchar\(3\) allows"):
        stream.ingest_records_offset([{"id": 2}, {"id": 3, "code": "abcd"}])
    with pytest.raises(InvalidRecordError, match=r"field 'loc.tags\[1\]': out of range for SMALLINT"):
        stream.ingest_record_offset({"id": 4, "loc": {"tags": [1, -32769]}})
    stream.ingest_record_offset({"id": 5, "small": -128, "code": "abc", "loc": {"tags": [-32768]}})
    stream.close()
    assert zerobus_server.rows(table) == [{"id": 5, "small": -128, "code": "abc", "loc": {"tags": [-32768]}}]


def test_integers_for_dates_and_timestamps_follow_the_declared_units(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    """As for dicts on PROTO and JSON streams: seconds given where microseconds belong are refused,
    or converted when the options declare them."""
    table = zerobus_table("id BIGINT NOT NULL, day DATE, at TIMESTAMP")
    schema_text = zerobus_server.table_schema(table).avro_schema()
    stream = _open(driver, zerobus_server, table, schema_text)
    with pytest.raises(InvalidRecordError, match=r"field 'at': looks like epoch seconds"):
        stream.ingest_record_offset({"id": 1, "at": 1_700_000_000})
    with pytest.raises(InvalidRecordError, match=r"field 'day': looks like epoch seconds"):
        stream.ingest_record_offset({"id": 1, "day": 1_700_000_000})
    stream.ingest_record_offset({"id": 1, "at": 1_700_000_000_000_000, "day": 19_675})
    stream.close()
    declared = _open(driver, zerobus_server, table, schema_text, timestamp_unit="s", date_unit="s")
    declared.ingest_record_offset({"id": 2, "at": 1_700_000_000, "day": 1_699_920_000})  # UTC midnight
    declared.close()
    rows = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    at = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert rows == [
        {"id": 1, "day": dt.date(2023, 11, 14), "at": at},
        {"id": 2, "day": dt.date(2023, 11, 14), "at": at},
    ]
