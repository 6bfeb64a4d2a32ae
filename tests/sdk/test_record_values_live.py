"""No silent wrong data: timestamp units, JSON text, floats for DECIMAL (both drivers, real server).

- TIMESTAMP/DATE integers that look like seconds, milliseconds or nanoseconds are refused at the
  ingest call, whichever record shape brings them; `timestamp_unit` / `date_unit` convert instead.
- JSON text is checked at the ingest call (against the schema when there is one, as one JSON
  object otherwise); a bad one fails that call only and the stream goes on. JSON goes as UTF-8.
- A float for a DECIMAL column is refused by the SDK, the models and the local server alike.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from types import ModuleType
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.codegen.runtime_model import model_class
from zerobus.errors import ConfigurationError, InvalidRecordError, ZerobusException
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties

DDL = "id BIGINT NOT NULL, at TIMESTAMP, day DATE, amount DECIMAL(6,2), times ARRAY<TIMESTAMP>, note STRING"
NOW = dt.datetime(2024, 11, 28, 8, 0, tzinfo=dt.timezone.utc)
NOW_S = int(NOW.timestamp())
NOW_US = NOW_S * 1_000_000
DAY = dt.date(2024, 11, 28)
DAY_MIDNIGHT_S = int(dt.datetime(2024, 11, 28, tzinfo=dt.timezone.utc).timestamp())


def _open(driver: Any, server: Any, table: str, descriptor: Any = None, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


@pytest.mark.parametrize("record_type", [RecordType.PROTO, RecordType.JSON])
def test_timestamps_in_the_wrong_unit_are_refused_at_the_call_and_the_stream_goes_on(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record_type: RecordType
) -> None:
    table = zerobus_table(DDL)
    schema = schema_from_ddl(DDL, table)
    stream = _open(driver, zerobus_server, table, schema, record_type=record_type)
    model = model_class(schema)
    wrong: list[tuple[Any, str]] = [
        ({"id": 1, "at": NOW_S}, r"field 'at': looks like epoch seconds \(2024-11-28T08:00:00Z\)"),
        ({"id": 1, "at": NOW_S * 1000}, "field 'at': looks like epoch milliseconds"),
        ({"id": 1, "at": NOW_US * 1000}, "field 'at': looks like epoch nanoseconds"),
        ({"id": 1, "times": [NOW_US, NOW_S]}, r"field 'times\[1\]': looks like epoch seconds"),
        ({"id": 1, "day": DAY_MIDNIGHT_S}, r"field 'day': looks like epoch seconds \(2024-11-28\)"),
        (json.dumps({"id": 1, "at": NOW_S}), "field 'at': looks like epoch seconds"),
        (json.dumps({"id": 1, "day": DAY_MIDNIGHT_S * 1000}), "field 'day': looks like epoch milliseconds"),
    ]
    for record, message in wrong:
        with pytest.raises(InvalidRecordError, match=message):
            stream.ingest_record_offset(record)
    with pytest.raises(ValueError, match="field 'at': looks like epoch seconds"):
        model(id=1, at=NOW_S)  # the generated model says the same
    stream.ingest_record_offset({"id": 1, "at": NOW_US, "day": (DAY - dt.date(1970, 1, 1)).days})
    stream.ingest_record_offset(json.dumps({"id": 2, "at": NOW_US}))
    stream.ingest_record_offset(model(id=3, at=NOW_US, times=[NOW_US]))
    stream.close()
    rows = zerobus_server.rows(table)
    assert ids(rows) == [1, 2, 3]
    assert {row["at"] for row in rows} == {NOW}
    assert [row["day"] for row in rows if row["id"] == 1] == [DAY]


@pytest.mark.parametrize("record_type", [RecordType.PROTO, RecordType.JSON])
def test_a_declared_unit_converts_integers_of_every_record_shape(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record_type: RecordType
) -> None:
    table = zerobus_table(DDL)
    schema = schema_from_ddl(DDL, table)
    stream = _open(
        driver, zerobus_server, table, schema, record_type=record_type, timestamp_unit="s", date_unit="s"
    )
    stream.ingest_record_offset({"id": 1, "at": NOW_S, "day": DAY_MIDNIGHT_S, "times": [NOW_S]})
    stream.ingest_record_offset(json.dumps({"id": 2, "at": NOW_S, "times": [NOW_S]}))
    stream.ingest_records_offset([{"id": 3, "at": NOW}, {"id": 4, "at": NOW_S}])
    with pytest.raises(InvalidRecordError, match="field 'day': epoch seconds not at UTC midnight"):
        stream.ingest_record_offset({"id": 5, "day": NOW_S})
    stream.close()
    rows = zerobus_server.rows(table)
    assert ids(rows) == [1, 2, 3, 4]
    assert {row["at"] for row in rows} == {NOW}
    assert [row["times"] for row in rows if row["id"] in (1, 2)] == [[NOW], [NOW]]
    assert [row["day"] for row in rows if row["id"] == 1] == [DAY]


def test_the_wire_unit_turns_the_check_off_and_compiled_messages_are_never_checked(
    driver: Any, zerobus_server: Any, zerobus_table: Any, events_pb2: ModuleType
) -> None:
    table = zerobus_table(DDL)
    stream = _open(driver, zerobus_server, table, schema_from_ddl(DDL, table), timestamp_unit="us")
    stream.ingest_record_offset({"id": 1, "at": 0})  # a deliberate epoch
    stream.close()
    assert [row["at"] for row in zerobus_server.rows(table)] == [
        dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    ]
    # A compiled message's integers are wire values by definition: its BIGINT id is not a time.
    events = zerobus_table("id BIGINT NOT NULL, name STRING")
    compiled = _open(driver, zerobus_server, events, events_pb2.Event.DESCRIPTOR)
    compiled.ingest_record_offset(events_pb2.Event(id=NOW_S))
    compiled.close()
    assert ids(zerobus_server.rows(events)) == [NOW_S]


def test_unit_options_are_validated_naming_the_option() -> None:
    with pytest.raises(ConfigurationError, match="timestamp_unit must be one of"):
        StreamConfigurationOptions(timestamp_unit="sec")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="date_unit must be one of"):
        StreamConfigurationOptions(date_unit="us")  # type: ignore[arg-type]
    assert StreamConfigurationOptions(timestamp_unit="ms").replace(date_unit="days").date_unit == "days"


def test_bad_json_text_on_a_schema_stream_fails_its_call_only(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(DDL)
    stream = _open(driver, zerobus_server, table, schema_from_ddl(DDL, table), record_type=RecordType.JSON)
    bad = [
        ('{"id": 1, "amount": "12.345"}', "field 'amount'"),
        ('{"id": 1, "note": 5}', "field 'note'"),
        ('{"id": 1, "nope": 5}', "field 'nope': unknown field"),
        ('{"note": "x"}', "field 'id': NOT NULL field is missing"),
        ('{"id": 1, "amount": NaN}', "NaN is not a JSON number"),
        ('{"id": 1}{"id": 2}', "Extra data"),
        ('[{"id": 1}]', "must be an object"),
        ('{"id": 1, "note": "\\udc00"}', "lone surrogate"),
        ('{"id": 1, "note": "\udc00"}', "lone surrogate"),
        ("{nope", "not valid JSON"),
    ]
    for text, message in bad:
        with pytest.raises(InvalidRecordError, match=message):
            stream.ingest_record_offset(text)
    stream.ingest_record_offset('{"id": 1, "amount": "12.30", "note": "ok \\ud83d\\ude00"}')
    stream.close()
    rows = zerobus_server.rows(table)
    assert ids(rows) == [1]
    assert rows[0]["amount"] == decimal.Decimal("12.30")
    assert rows[0]["note"] == "ok \U0001f600"


def test_schemaless_json_text_must_be_one_object(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, note STRING")
    stream = _open(driver, zerobus_server, table, record_type=RecordType.JSON)
    bad = [
        ("[1, 2]", "must be an object .*got an array"),
        ("5", "got a number"),
        ('"text"', "got a string"),
        ('{"id": 1} {"id": 2}', "Extra data"),
        ('{"id": Infinity}', "Infinity is not a JSON number"),
        ('{"id": 1, "note": "\\ud800"}', "lone surrogate"),
        ("", "not valid JSON"),
    ]
    for text, message in bad:
        with pytest.raises(InvalidRecordError, match=message):
            stream.ingest_record_offset(text)
    stream.ingest_record_offset('{"id": 7, "note": "fine"}')
    stream.close()
    assert ids(zerobus_server.rows(table)) == [7]


def test_json_goes_as_utf8_not_ascii_escapes(driver: Any, zerobus_server: Any, zerobus_table: Any) -> None:
    ddl = "id BIGINT NOT NULL, note STRING, doc VARIANT"
    table = zerobus_table(ddl)
    schema = schema_from_ddl(ddl, table)
    zerobus_server.faults.withhold_acks()  # keep the records unacknowledged, to look at what was sent
    stream = _open(driver, zerobus_server, table, schema, record_type=RecordType.JSON)
    stream.ingest_record_offset({"id": 1, "note": "\U0001f600"})
    stream.ingest_record_offset(model_class(schema)(id=2, note="\U0001f600"))
    stream.ingest_record_offset({"id": 3, "doc": {"e": "\U0001f600"}})
    sent = list(stream.get_unacked_records())
    assert sent[:2] == ['{"id":1,"note":"\U0001f600"}', '{"id":2,"note":"\U0001f600"}']
    assert len(sent[0].encode("utf-8")) == len('{"id":1,"note":""}') + 4  # the emoji's 4 UTF-8 bytes
    assert "\\u" not in sent[2] and json.loads(json.loads(sent[2])["doc"]) == {"e": "\U0001f600"}
    zerobus_server.faults.release_acks()
    stream.close()
    assert [row["note"] for row in zerobus_server.rows(table)] == ["\U0001f600", "\U0001f600", None]


@pytest.mark.parametrize("record_type", [RecordType.PROTO, RecordType.JSON])
def test_floats_for_decimal_are_refused_by_the_sdk(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record_type: RecordType
) -> None:
    table = zerobus_table(DDL)
    schema = schema_from_ddl(DDL, table)
    stream = _open(driver, zerobus_server, table, schema, record_type=record_type)
    for record in ({"id": 1, "amount": 0.1}, '{"id": 1, "amount": 0.1}'):
        with pytest.raises(
            InvalidRecordError, match=r"field 'amount': a float cannot be given for decimal\(6,2\)"
        ):
            stream.ingest_record_offset(record)
    with pytest.raises(ValueError, match=r"field 'amount': a float cannot be given for decimal\(6,2\)"):
        model_class(schema)(id=1, amount=0.1)
    stream.ingest_records_offset(
        [{"id": 1, "amount": decimal.Decimal("0.10")}, {"id": 2, "amount": "0.20"}, {"id": 3, "amount": 3}]
    )
    stream.close()
    amounts = {row["id"]: row["amount"] for row in zerobus_server.rows(table)}
    assert amounts == {1: decimal.Decimal("0.10"), 2: decimal.Decimal("0.20"), 3: decimal.Decimal("3.00")}


def test_the_local_server_refuses_a_json_float_for_decimal_with_the_same_rule(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    """A schema-less JSON stream lets the number reach the server, which refuses it too."""
    table = zerobus_table("id BIGINT NOT NULL, amount DECIMAL(6,2)")
    stream = _open(driver, zerobus_server, table, record_type=RecordType.JSON, recovery=False)
    stream.ingest_record_offset('{"id": 1, "amount": 0.1}')
    with pytest.raises(ZerobusException, match=r"amount.*a float cannot be given for decimal\(6,2\)"):
        stream.close()
