"""Records the Delta table could never hold are refused at ingest, never acknowledged.

A string that is not valid Unicode (a lone surrogate from a JSON ``\\ud800`` escape, or bytes
that are not UTF-8 in a proto2 `string` field) and the NaN/Infinity tokens (not JSON) used to
be acknowledged, then fail every materialisation of their table. Each case here is refused with
INVALID_ARGUMENT / 4044 naming the field, and a good record sent afterwards reaches Delta.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from tests.server.wire_client import open_stream
from zerobus.protocol import EphemeralStreamRequest, IngestRecordRequest
from zerobus.server import LocalZerobusServer

COLUMNS = (
    "id BIGINT, name STRING, code VARCHAR(10), amount DECIMAL(10,2), doc VARIANT, "
    "tags ARRAY<STRING>, attrs MAP<STRING, STRING>, loc STRUCT<city: STRING, tags: ARRAY<STRING>>, "
    "f FLOAT, d DOUBLE, ds ARRAY<DOUBLE>, m MAP<STRING, DOUBLE>, pos STRUCT<lat: DOUBLE>"
)
MARK = "\x01MARKS\x01"  # replaced by invalid UTF-8 of the same length in the serialized record
NOT_UTF8 = b"\xff\xfe\xed\xa0\x80\xc0\xaf"  # stray bytes, a CESU surrogate, an overlong '/'
assert len(NOT_UTF8) == len(MARK.encode())


def _rejected(server: LocalZerobusServer, kit: Any, bad: Any, json_mode: bool, *fragments: str) -> None:
    """A good record, the bad one (a record, or a list: a batch with it at index 1); the call fails
    naming offset 1 and the fragments; then a good record of a new call reaches Delta."""
    good: Any = json.dumps({"id": 1}) if json_mode else kit.encode(id=1)
    descriptor = None if json_mode else kit.descriptor
    with open_stream(server, kit.name, descriptor, json=json_mode) as stream:
        stream.wait_created()
        stream.record(0, good)
        if isinstance(bad, list):
            stream.batch(1, [good, *bad])
        else:
            stream.record(1, bad)
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        details = error.details() or ""
        for fragment in ("Error code 4044", "offset 1", *fragments):
            assert fragment in details, details
        assert stream.acked == 0
    later: Any = json.dumps({"id": 2}) if json_mode else kit.encode(id=2)
    with open_stream(server, kit.name, descriptor, json=json_mode) as stream:
        stream.wait_created()
        stream.record(0, later)
        assert stream.wait_acked(0), stream.error_text()
    assert [row["id"] for row in server.rows(kit.name)] == [1, 2]


# --- PROTO: bytes that are not UTF-8 in every string position ------------------------------------

PROTO_STRING_POSITIONS = [
    ({"name": MARK}, "'name'"),
    ({"code": MARK}, "'code'"),
    ({"amount": MARK}, "'amount'"),
    ({"doc": MARK}, "'doc'"),
    ({"tags": ["ok", MARK]}, "'tags[1]'"),
    ({"attrs": {MARK: "v"}}, "'attrs{"),
    ({"attrs": {"k": MARK}}, "'attrs['k']'"),
    ({"loc": {"city": MARK}}, "'loc.city'"),
    ({"loc": {"tags": [MARK]}}, "'loc.tags[0]'"),
]


def _poisoned(kit: Any, fields: dict[str, Any]) -> bytes:
    from zerobus.schema.descriptor import message_builder

    raw = bytes(message_builder(kit.cls)({"id": 9, **fields}).SerializeToString())
    assert raw.count(MARK.encode()) == 1
    return raw.replace(MARK.encode(), NOT_UTF8)


@pytest.mark.parametrize(
    ("fields", "where"), PROTO_STRING_POSITIONS, ids=[p[1] for p in PROTO_STRING_POSITIONS]
)
@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_proto_string_that_is_not_utf8_is_refused(
    zerobus_server: LocalZerobusServer, make_table: Any, fields: dict[str, Any], where: str, batch: bool
) -> None:
    kit = make_table(COLUMNS)
    bad = _poisoned(kit, fields)
    extra = ("record 1 of the batch",) if batch else ()
    _rejected(zerobus_server, kit, [bad] if batch else bad, False, where, "UTF-8", *extra)


# --- JSON: lone surrogates in every string position, NaN/Infinity in every float position ---------

JSON_POSITIONS = [
    ('"name": "\\ud800"', "'name'", "surrogate"),
    ('"name": "a\\udfff"', "'name'", "surrogate"),
    ('"code": "\\ud800"', "'code'", "surrogate"),
    ('"amount": "\\ud800"', "'amount'", ""),
    ('"doc": "\\ud800"', "'doc'", ""),
    ('"doc": "\\"\\\\ud800\\""', "'doc'", "surrogate"),
    ('"doc": "{\\"\\\\udc00\\": 1}"', "'doc'", "surrogate"),
    ('"doc": "NaN"', "'doc'", "NaN"),
    ('"doc": "[1, -Infinity]"', "'doc'", "Infinity"),
    ('"tags": ["ok", "\\ud800"]', "'tags[1]'", "surrogate"),
    ('"attrs": {"\\ud800": "v"}', "'attrs{", "surrogate"),
    ('"attrs": {"k": "\\ud800"}', "'attrs['k']'", "surrogate"),
    ('"loc": {"city": "\\ud800"}', "'loc.city'", "surrogate"),
    ('"loc": {"tags": ["\\udbff"]}', "'loc.tags[0]'", "surrogate"),
    ('"f": NaN', "'f'", "NaN"),
    ('"d": Infinity', "'d'", "Infinity"),
    ('"d": -Infinity', "'d'", "Infinity"),
    ('"d": 1e999', "'d'", "out of range"),
    ('"ds": [1.0, NaN]', "'ds[1]'", "NaN"),
    ('"m": {"k": Infinity}', "'m['k']'", "Infinity"),
    ('"pos": {"lat": NaN}', "'pos.lat'", "NaN"),
    ('"name": "a", "name": "b"', "key 'name' appears more than once", ""),
    ('"loc": {"city": "a", "city": "b"}', "key 'city' appears more than once", ""),
    ('"attrs": {"k": "a", "k": "b"}', "key 'k' appears more than once", ""),
]


@pytest.mark.parametrize(("member", "where", "reason"), JSON_POSITIONS, ids=[p[0] for p in JSON_POSITIONS])
@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_json_value_the_table_cannot_hold_is_refused(
    zerobus_server: LocalZerobusServer, make_table: Any, member: str, where: str, reason: str, batch: bool
) -> None:
    kit = make_table(COLUMNS)
    bad = '{"id": 9, ' + member + "}"
    extra = ("record 1 of the batch",) if batch else ()
    _rejected(zerobus_server, kit, [bad] if batch else bad, True, where, reason, *extra)


def test_paired_surrogate_escapes_are_one_character_and_accepted(
    zerobus_server: LocalZerobusServer, make_table: Any
) -> None:
    kit = make_table(COLUMNS)
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, '{"id": 1, "name": "\\ud83d\\ude00", "doc": "\\"\\\\ud83d\\\\ude00\\""}')
        assert stream.wait_acked(0), stream.error_text()
    [row] = zerobus_server.rows(kit.name)
    assert row["name"] == "\U0001f600" and json.loads(row["doc"]) == "\U0001f600"


# --- JSON text that is not UTF-8 on the wire -------------------------------------------------------


def _json_request_with_raw_record(offset: int, record: bytes, batch: bool) -> bytes:
    """An ingest request whose JSON record field holds `record` as is (not necessarily UTF-8)."""
    placeholder = "\x02" * len(record)
    if batch:
        from zerobus.protocol import IngestRecordBatchRequest, JsonRecordBatch

        request = EphemeralStreamRequest(
            ingest_record_batch=IngestRecordBatchRequest(
                offset_id=offset, json_batch=JsonRecordBatch(records=['{"id": 5}', placeholder])
            )
        )
    else:
        request = EphemeralStreamRequest(
            ingest_record=IngestRecordRequest(offset_id=offset, json_record=placeholder)
        )
    raw = request.SerializeToString()
    assert raw.count(placeholder.encode()) == 1
    return bytes(raw.replace(placeholder.encode(), record))


@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
@pytest.mark.parametrize("record", [b'{"id": 3, "name": "\xff"}', b"\xed\xa0\x80", b"\xc0\xaf{}"])
def test_json_record_that_is_not_utf8_on_the_wire_is_a_client_error(
    zerobus_server: LocalZerobusServer, make_table: Any, record: bytes, batch: bool
) -> None:
    kit = make_table("id BIGINT, name STRING")
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, json.dumps({"id": 1}))
        stream.send_raw(_json_request_with_raw_record(1, record, batch))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        details = error.details() or ""
        assert "Error code 4044" in details and "offset 1" in details and "UTF-8" in details, details
        if batch:
            assert "record 1 of the batch" in details, details
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, json.dumps({"id": 2}))
        assert stream.wait_acked(0), stream.error_text()
    assert [row["id"] for row in zerobus_server.rows(kit.name)] == [1, 2]


@pytest.mark.parametrize("key", [" 7", "7 ", "1_000", "\u0667", "0x7"])
def test_json_map_key_that_is_not_plain_integer_text_is_refused(
    zerobus_server: LocalZerobusServer, make_table: Any, key: str
) -> None:
    """int() would read these as another key (7, 1000, 7): the stored row would not be what was sent."""
    kit = make_table("id BIGINT, m MAP<INT, STRING>")
    bad = json.dumps({"id": 9, "m": {key: "x"}})
    _rejected(zerobus_server, kit, bad, True, "'m{", "map key is not an integer")


@pytest.mark.parametrize("record", ['{"id": 9, "\\ud800": 1}', '{"id": 9, "loc": {"\\udfff": "x"}}'])
def test_unknown_field_named_with_a_lone_surrogate_is_refused_cleanly(
    zerobus_server: LocalZerobusServer, make_table: Any, record: str
) -> None:
    """The error text names the field; it must still travel as a gRPC status (UTF-8)."""
    kit = make_table(COLUMNS)
    _rejected(zerobus_server, kit, record, True, "unknown field")
