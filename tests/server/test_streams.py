"""EphemeralStream over real gRPC on loopback: creation checks, records, offsets, limits."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import grpc
import pytest
from google.protobuf import descriptor_pb2

from tests.server.wire_client import WireStream, get_token, ingest_token, open_stream
from zerobus.server import Grant, LocalZerobusServer

ALL_TYPES = (
    "id BIGINT NOT NULL, name STRING, tiny TINYINT, small SMALLINT, i INT, f FLOAT, d DOUBLE, ok BOOLEAN, "
    "raw BINARY, amount DECIMAL(10,2), day DATE, at TIMESTAMP, wall TIMESTAMP_NTZ, doc VARIANT, "
    "tags ARRAY<STRING>, attrs MAP<STRING,INT>, loc STRUCT<lat: DOUBLE, lon: DOUBLE>, "
    "points ARRAY<STRUCT<x: INT, y: INT>>"
)
AT_MICROS = 1_700_000_000_123_456
AT = dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=dt.timezone.utc)


def _full_proto_record(kit, i: int) -> bytes:  # type: ignore[no-untyped-def]
    cls = kit.cls
    return kit.encode(
        id=i,
        name=f"n{i}",
        tiny=-5,
        small=300,
        i=70000,
        f=1.5,
        d=2.25,
        ok=True,
        raw=b"\x00\xff",
        amount="12.30",
        day=19000,
        at=AT_MICROS,
        wall=AT_MICROS,
        doc='{"a": [1, 2]}',
        tags=["x", "y"],
        attrs={"k": 7},
        loc=cls.Loc(lat=1.0, lon=2.0),
        points=[cls.Points(x=1, y=2)],
    )


def test_proto_single_and_batch_records_reach_delta_with_matching_types(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table(ALL_TYPES)
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, _full_proto_record(kit, 0))
        stream.batch(1, [_full_proto_record(kit, i) for i in range(1, 4)])
        stream.record(2, kit.encode(id=99))
        assert stream.wait_acked(2), stream.error_text()
    rows = zerobus_server.rows(kit.name)
    assert [r["id"] for r in rows] == [0, 1, 2, 3, 99]
    first = rows[0]
    assert first["name"] == "n0"
    assert first["tiny"] == -5 and first["small"] == 300 and first["i"] == 70000
    assert first["f"] == 1.5 and first["d"] == 2.25 and first["ok"] is True
    assert first["raw"] == b"\x00\xff"
    assert first["amount"] == decimal.Decimal("12.30")
    assert first["day"] == dt.date(2022, 1, 8)
    assert first["at"] == AT
    assert first["wall"] == AT.replace(tzinfo=None)
    assert json.loads(first["doc"]) == {"a": [1, 2]}
    assert first["tags"] == ["x", "y"]
    assert first["attrs"] == {"k": 7}
    assert first["loc"] == {"lat": 1.0, "lon": 2.0}
    assert first["points"] == [{"x": 1, "y": 2}]
    assert rows[-1]["name"] is None and rows[-1]["tags"] == []


def test_delta_schema_types_match_the_columns(zerobus_server: LocalZerobusServer, make_table) -> None:
    import deltalake
    import pyarrow as pa

    kit = make_table(ALL_TYPES)
    schema = pa.schema(deltalake.DeltaTable(str(zerobus_server.table_path(kit.name))).schema().to_arrow())
    types = {field.name: field.type for field in schema}
    assert types["day"] == pa.date32()
    assert types["at"] == pa.timestamp("us", tz="UTC")
    assert types["wall"] == pa.timestamp("us")
    assert types["amount"] == pa.decimal128(10, 2)
    assert types["raw"] in (pa.binary(), pa.large_binary(), pa.binary_view())
    assert types["tiny"] == pa.int8() and types["small"] == pa.int16()
    assert pa.types.is_map(types["attrs"]) and pa.types.is_struct(types["loc"])
    assert not schema.field("id").nullable


def test_json_records_reach_delta(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table(ALL_TYPES)
    record = {
        "id": 1,
        "small": -2,
        "f": 1,
        "raw": "AP8=",
        "amount": "5.5",
        "day": 1,
        "at": AT_MICROS,
        "doc": "[1]",
        "tags": ["a"],
        "attrs": {"z": 3},
        "loc": {"lat": 3.5},
        "points": [{"x": 5}],
    }
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, json.dumps(record))
        stream.batch(1, [json.dumps({"id": 2}), json.dumps({"id": 3, "name": None})])
        assert stream.wait_acked(1), stream.error_text()
    rows = zerobus_server.rows(kit.name)
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert rows[0]["raw"] == b"\x00\xff"
    assert rows[0]["amount"] == decimal.Decimal("5.50")
    assert rows[0]["day"] == dt.date(1970, 1, 2)
    assert rows[0]["at"] == AT
    assert rows[0]["attrs"] == {"z": 3}
    assert rows[0]["loc"] == {"lat": 3.5, "lon": None}
    assert rows[0]["f"] == 1.0


def test_acks_are_cumulative_and_stream_id_is_a_uuid(zerobus_server: LocalZerobusServer, make_table) -> None:
    import uuid

    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        uuid.UUID(stream.wait_created())
        for offset in range(50):
            stream.record(offset, kit.encode(id=offset))
        assert stream.wait_acked(49)
        acks = [r.ingest_record_response.durability_ack_up_to_offset for r in stream.responses[1:]]
        assert acks == sorted(acks) and acks[-1] == 49


# --- stream creation -------------------------------------------------------------------------------


def _expect_rejected(stream: WireStream, code: grpc.StatusCode, *fragments: str) -> str:
    error = stream.wait_done()
    assert error is not None, "the call should have failed"
    assert error.code() == code, stream.error_text()
    details = error.details() or ""
    for fragment in fragments:
        assert fragment in details, details
    assert stream.stream_id is None
    return details


def test_unknown_token_is_unauthenticated(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor, token="not-a-token") as stream:
        _expect_rejected(stream, grpc.StatusCode.UNAUTHENTICATED, "Invalid access token")


def test_missing_authorization_is_unauthenticated(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    stream = WireStream(zerobus_server, [("x-databricks-zerobus-table-name", kit.name)])
    stream.create(kit.name, kit.descriptor)
    with stream:
        _expect_rejected(stream, grpc.StatusCode.UNAUTHENTICATED, "authorization")


def test_expired_token_is_unauthenticated(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    token = ingest_token(zerobus_server, kit.name)
    zerobus_server.expire_tokens()
    with open_stream(zerobus_server, kit.name, kit.descriptor, token=token) as stream:
        _expect_rejected(stream, grpc.StatusCode.UNAUTHENTICATED, "expired")


def test_metadata_token_is_permission_denied(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    token = get_token(zerobus_server, kit.name, ingest=False).json()["access_token"]
    with open_stream(zerobus_server, kit.name, kit.descriptor, token=token) as stream:
        _expect_rejected(stream, grpc.StatusCode.PERMISSION_DENIED, "4024")


def test_token_for_another_table_is_permission_denied(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    other = make_table("id BIGINT")
    token = ingest_token(zerobus_server, other.name)
    with open_stream(zerobus_server, kit.name, kit.descriptor, token=token) as stream:
        _expect_rejected(stream, grpc.StatusCode.PERMISSION_DENIED, "MODIFY", kit.name)


def test_grant_revoked_after_token_issue_is_permission_denied(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.add_principal("writer", "w-secret", [Grant("*", ["ALL PRIVILEGES"])])
    token = ingest_token(zerobus_server, kit.name, client_id="writer", client_secret="w-secret")
    zerobus_server.add_principal("writer", "w-secret", [Grant(kit.name, ["SELECT"])])
    with open_stream(zerobus_server, kit.name, kit.descriptor, token=token) as stream:
        _expect_rejected(stream, grpc.StatusCode.PERMISSION_DENIED, "lacks MODIFY")


def test_unknown_table_is_not_found(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    missing = "main.tests.no_such_table"
    with open_stream(zerobus_server, missing, kit.descriptor) as stream:
        _expect_rejected(stream, grpc.StatusCode.NOT_FOUND, missing)


def test_table_name_metadata_mismatch_is_invalid(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor, header_table="main.tests.other") as stream:
        _expect_rejected(stream, grpc.StatusCode.INVALID_ARGUMENT, "does not match", "main.tests.other")


def test_first_message_must_be_create_stream(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, create=False) as stream:
        stream.record(0, kit.encode(id=1))
        _expect_rejected(stream, grpc.StatusCode.INVALID_ARGUMENT, "first message")


def test_proto_stream_needs_a_descriptor(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name) as stream:
        _expect_rejected(stream, grpc.StatusCode.INVALID_ARGUMENT, "descriptor_proto")


def _descriptor(kit, edit) -> bytes:  # type: ignore[no-untyped-def]
    message = descriptor_pb2.DescriptorProto.FromString(kit.descriptor)
    edit(message)
    return message.SerializeToString()


_F = descriptor_pb2.FieldDescriptorProto


@pytest.mark.parametrize(
    ("columns", "edit", "fragments"),
    [
        (
            "id BIGINT, small SMALLINT",
            lambda m: setattr(m.field[0], "type", _F.TYPE_STRING),
            ["'id'", "int64"],
        ),
        (
            "id BIGINT, tags ARRAY<STRING>",
            lambda m: setattr(m.field[1], "label", _F.LABEL_OPTIONAL),
            ["'tags'", "repeated"],
        ),
        (
            "id BIGINT, extra INT",
            lambda m: setattr(m.field[1], "name", "bogus"),
            ["'bogus'", "does not exist"],
        ),
        ("id BIGINT NOT NULL, x INT", lambda m: m.field.pop(0), ["'id'", "NOT NULL"]),
        (
            "id BIGINT, loc STRUCT<lat: DOUBLE, lon: DOUBLE>",
            lambda m: setattr(m.nested_type[0].field[1], "type", _F.TYPE_FLOAT),
            ["'loc.lon'", "double"],
        ),
        (
            "id BIGINT, attrs MAP<STRING, INT>",
            lambda m: setattr(m.nested_type[0].field[1], "type", _F.TYPE_INT64),
            ["'attrs.value'", "int32"],
        ),
    ],
    ids=[
        "wrong-scalar",
        "array-not-repeated",
        "unknown-field",
        "missing-not-null",
        "nested-struct",
        "map-value",
    ],
)
def test_incompatible_descriptor_names_the_column(
    zerobus_server: LocalZerobusServer, make_table, columns: str, edit, fragments: list[str]
) -> None:
    kit = make_table(columns)
    with open_stream(zerobus_server, kit.name, _descriptor(kit, edit)) as stream:
        _expect_rejected(stream, grpc.StatusCode.INVALID_ARGUMENT, *fragments)


def test_descriptor_referring_outside_itself_is_not_self_contained(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT, at TIMESTAMP")

    def use_well_known_type(message: descriptor_pb2.DescriptorProto) -> None:
        message.field[1].type = _F.TYPE_MESSAGE
        message.field[1].type_name = ".google.protobuf.Timestamp"

    with open_stream(zerobus_server, kit.name, _descriptor(kit, use_well_known_type)) as stream:
        _expect_rejected(
            stream, grpc.StatusCode.INVALID_ARGUMENT, "Error code 4033", "google.protobuf.Timestamp"
        )


def test_package_qualified_nested_names_are_accepted(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, loc STRUCT<lat: DOUBLE>")

    def qualify(message: descriptor_pb2.DescriptorProto) -> None:
        message.field[1].type_name = f".my.pkg.{message.name}.Loc"

    with open_stream(zerobus_server, kit.name, _descriptor(kit, qualify)) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1, loc=kit.cls.Loc(lat=4.0)))
        assert stream.wait_acked(0), stream.error_text()
    assert zerobus_server.rows(kit.name) == [{"id": 1, "loc": {"lat": 4.0}}]


# --- invalid records -------------------------------------------------------------------------------


def _bad_request_is_rejected(
    server: LocalZerobusServer, kit, records: list, json_mode: bool, *fragments: str, good=None
) -> None:  # type: ignore[no-untyped-def]
    """A good request, then the bad one: the call fails naming offset 1, the good row alone is stored."""
    if good is None:
        good = json.dumps({"id": 1}) if json_mode else kit.encode(id=1)
    with open_stream(server, kit.name, None if json_mode else kit.descriptor, json=json_mode) as stream:
        stream.wait_created()
        stream.record(0, good)
        if len(records) == 1:
            stream.record(1, records[0])
        else:
            stream.batch(1, records)
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        details = error.details() or ""
        assert "offset 1" in details, details
        for fragment in fragments:
            assert fragment in details, details
        assert stream.acked == 0  # the good request before it was acknowledged
    assert [row["id"] for row in server.rows(kit.name)] == [1]


@pytest.mark.parametrize(
    ("columns", "record", "fragments"),
    [
        ("id BIGINT, n BIGINT", {"id": 1, "n": "12"}, ["'n'", "integer"]),
        ("id BIGINT, n BIGINT", {"id": 1, "n": 1.5}, ["'n'"]),
        ("id BIGINT, small SMALLINT", {"id": 1, "small": 40000}, ["'small'", "out of range"]),
        ("id BIGINT, t TINYINT", {"id": 1, "t": -129}, ["'t'", "out of range"]),
        ("id BIGINT, req STRING NOT NULL", {"id": 1}, ["'req'", "missing"]),
        ("id BIGINT, req STRING NOT NULL", {"id": 1, "req": None}, ["'req'", "null"]),
        ("id BIGINT, amount DECIMAL(5,2)", {"id": 1, "amount": "12.3x"}, ["'amount'", "decimal"]),
        ("id BIGINT, amount DECIMAL(5,2)", {"id": 1, "amount": "12345.6"}, ["'amount'", "integer digits"]),
        (
            "id BIGINT, amount DECIMAL(5,2)",
            {"id": 1, "amount": 1.5},
            ["'amount'", "a float cannot be given for decimal(5,2)", "JSON string"],
        ),
        ("id BIGINT, day DATE", {"id": 1, "day": "2024-01-01"}, ["'day'", "DATE"]),
        ("id BIGINT, at TIMESTAMP", {"id": 1, "at": "2024-01-01T00:00:00Z"}, ["'at'", "TIMESTAMP"]),
        ("id BIGINT, tags ARRAY<STRING>", {"id": 1, "tags": ["a", None]}, ["tags[1]", "null elements"]),
        ("id BIGINT, tags ARRAY<STRING>", {"id": 1, "tags": "a"}, ["'tags'", "list"]),
        ("id BIGINT, loc STRUCT<lat: DOUBLE>", {"id": 1, "loc": [1.0]}, ["'loc'", "object"]),
        ("id BIGINT, loc STRUCT<lat: DOUBLE>", {"id": 1, "loc": {"lat": "x"}}, ["loc.lat"]),
        ("id BIGINT, attrs MAP<INT, STRING>", {"id": 1, "attrs": {"x": "v"}}, ["attrs", "integer"]),
        ("id BIGINT, raw BINARY", {"id": 1, "raw": "***"}, ["'raw'", "base64"]),
        ("id BIGINT, doc VARIANT", {"id": 1, "doc": "{bad json"}, ["'doc'", "JSON"]),
        ("id BIGINT, ok BOOLEAN", {"id": 1, "ok": "true"}, ["'ok'", "boolean"]),
        ("id BIGINT", {"id": 1, "surprise": 1}, ["'surprise'", "unknown field"]),
    ],
)
def test_invalid_json_record_fails_the_call_and_stores_nothing(
    zerobus_server: LocalZerobusServer, make_table, columns: str, record: dict, fragments: list[str]
) -> None:
    kit = make_table(columns)
    good = {"id": 1, "req": "r"} if "NOT NULL" in columns else {"id": 1}
    _bad_request_is_rejected(
        zerobus_server, kit, [json.dumps(record)], True, *fragments, good=json.dumps(good)
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("{not json", "not valid JSON"), ("[1, 2]", "must be an object"), ('"text"', "must be an object")],
)
def test_json_record_that_is_not_an_object(
    zerobus_server: LocalZerobusServer, make_table, text: str, fragment: str
) -> None:
    kit = make_table("id BIGINT")
    _bad_request_is_rejected(zerobus_server, kit, [text], True, fragment)


def test_one_bad_record_rejects_the_whole_batch(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, small SMALLINT")
    batch = [json.dumps({"id": 10}), json.dumps({"id": 11, "small": 99999}), json.dumps({"id": 12})]
    _bad_request_is_rejected(zerobus_server, kit, batch, True, "record 1 of the batch", "'small'")


def test_proto_narrow_int_out_of_range(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, small SMALLINT")
    _bad_request_is_rejected(
        zerobus_server, kit, [kit.encode(id=2, small=70000)], False, "'small'", "out of range"
    )


def test_proto_missing_required_column(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, name STRING NOT NULL")
    # Build the record without the required field: encode a partial message.
    partial = kit.cls(id=5)
    payload = partial.SerializePartialToString()
    good = kit.encode(id=1, name="n")
    _bad_request_is_rejected(zerobus_server, kit, [payload], False, "'name'", "missing", good=good)


def test_proto_missing_not_null_column_declared_optional(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT, name STRING NOT NULL")
    descriptor = _descriptor(kit, lambda m: setattr(m.field[1], "label", _F.LABEL_OPTIONAL))
    with open_stream(zerobus_server, kit.name, descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.cls(id=5).SerializePartialToString())
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "'name'" in (error.details() or "") and "missing" in (error.details() or "")


def test_proto_bad_decimal_text(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, amount DECIMAL(10,2)")
    _bad_request_is_rejected(
        zerobus_server, kit, [kit.encode(id=2, amount="1.234")], False, "'amount'", "fractional"
    )


def test_proto_garbage_bytes(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    _bad_request_is_rejected(zerobus_server, kit, [b"\xff\xff\xff"], False, "proto")


def test_record_kind_must_match_the_stream(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    _bad_request_is_rejected(zerobus_server, kit, [json.dumps({"id": 1})], False, "PROTO")


def test_oversize_request_is_rejected(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, name STRING")
    big = kit.encode(id=2, name="x" * (10 * 1024 * 1024 + 10))
    _bad_request_is_rejected(zerobus_server, kit, [big], False, "10 MiB")


@pytest.mark.parametrize(("offset", "fragment"), [(2, "a gap"), (0, "duplicate")])
def test_offset_gap_or_duplicate_is_rejected(
    zerobus_server: LocalZerobusServer, make_table, offset: int, fragment: str
) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1))
        stream.record(offset, kit.encode(id=2))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert fragment in (error.details() or "") and "expected 1" in (error.details() or "")
    assert [row["id"] for row in zerobus_server.rows(kit.name)] == [1]


def test_half_close_after_everything_acked_ends_ok(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1))
        stream.half_close()
        assert stream.wait_done() is None
        assert stream.acked == 0


def test_dropped_table_ends_the_stream(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1))
        assert stream.wait_acked(0)
        zerobus_server.drop_table(kit.name)
        stream.record(1, kit.encode(id=2))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.NOT_FOUND


# --- batches: decoded whole, checked column by column, errors still name the record ------------

NESTED = (
    "id BIGINT NOT NULL, day DATE, loc STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>, "
    "pts ARRAY<STRUCT<x: SMALLINT>>, m MAP<TINYINT, STRUCT<amount: DECIMAL(5,2)>>"
)


def _nested_record(kit, i: int, **changes: object) -> bytes:  # type: ignore[no-untyped-def]
    from zerobus.schema.descriptor import message_builder

    row = {
        "id": i,
        "day": 19000 + i,
        "loc": {"lat": 1.0 + i},
        "pts": [{"x": i}, {"x": -i}],
        "m": {i % 100: {"amount": f"{i}.25"}},
        **changes,
    }
    return bytes(message_builder(kit.cls)(row).SerializePartialToString())


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"loc": {"lon": 2.0}}, ["field 'loc.lat'", "NOT NULL field is missing"]),
        ({"pts": [{"x": 1}, {"x": 40000}]}, ["field 'pts[1].x'", "out of range for SMALLINT"]),
        ({"m": {1: {"amount": "1.234"}}}, ["field 'm[1].amount'", "fractional digits"]),
        ({"m": {300: {}}}, ["field 'm{300}'", "TINYINT"]),
        ({"day": 10**9}, ["field 'day'", "DATE"]),
    ],
    ids=["struct-not-null", "array-of-structs", "map-value-decimal", "map-key", "date-range"],
)
def test_bad_nested_value_in_a_batch_names_the_record(
    zerobus_server: LocalZerobusServer, make_table, changes: dict, fragments: list[str]
) -> None:
    kit = make_table(NESTED)
    batch = [_nested_record(kit, i) for i in range(10, 15)]
    batch[2] = _nested_record(kit, 12, **changes)
    _bad_request_is_rejected(
        zerobus_server, kit, batch, False, "Error code 4044", "record 2 of the batch", *fragments
    )


def test_malformed_record_in_a_batch_names_the_record(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, at TIMESTAMP")
    batch = [kit.encode(id=10), b"\x08\x96", kit.encode(id=12)]
    _bad_request_is_rejected(
        zerobus_server, kit, batch, False, "record 1 of the batch", "not a valid proto message"
    )


def test_missing_required_column_in_a_batch_names_the_record(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT, name STRING NOT NULL")
    batch = [
        kit.encode(id=10, name="a"),
        kit.encode(id=11, name="b"),
        kit.cls(id=12).SerializePartialToString(),
    ]
    _bad_request_is_rejected(
        zerobus_server,
        kit,
        batch,
        False,
        "record 2 of the batch",
        "'name'",
        "missing",
        good=kit.encode(id=1, name="n"),
    )


def test_json_batch_bad_record_is_named(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, at TIMESTAMP, f FLOAT")
    batch = [json.dumps({"id": i, "at": i, "f": 0.5}) for i in range(10, 14)]
    batch[3] = json.dumps({"id": 13, "f": 1e39})
    _bad_request_is_rejected(zerobus_server, kit, batch, True, "record 3 of the batch", "'f'", "FLOAT")


def test_nested_batches_land_in_delta_with_the_table_spelling(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table(NESTED)

    def shout(message: descriptor_pb2.DescriptorProto) -> None:
        # Field names match columns case-insensitively, nested ones too.
        message.field[0].name = "ID"
        loc = next(n for n in message.nested_type if n.name == "Loc")
        loc.field[0].name = "LAT"

    with open_stream(zerobus_server, kit.name, _descriptor(kit, shout)) as stream:
        stream.wait_created()
        stream.batch(0, [_nested_record(kit, i) for i in range(200)])
        stream.batch(1, [_nested_record(kit, i) for i in range(200, 300)])
        stream.record(2, _nested_record(kit, 300))
        assert stream.wait_acked(2), stream.error_text()
    rows = zerobus_server.rows(kit.name)
    assert [row["id"] for row in rows] == list(range(301))
    row = rows[7]
    assert row["day"] == dt.date(2022, 1, 15)
    assert row["loc"] == {"lat": 8.0, "lon": None}
    assert row["pts"] == [{"x": 7}, {"x": -7}]
    assert row["m"] == {7: {"amount": decimal.Decimal("7.25")}}
