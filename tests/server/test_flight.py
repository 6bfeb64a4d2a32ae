"""Arrow Flight `DoPut` ingestion on the local server, with pyarrow's own Flight client.

docs/PROTOCOL.md section 9: the same port, headers and grants as EphemeralStream; the schema first,
a ready signal, batches with sequential `offset_id`s, cumulative acks, rows in Delta.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re

import grpc
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from tests.server.flight_client import FlightPut, flight_headers
from tests.server.wire_client import ingest_token
from tests.support.waiting import wait_until
from zerobus.protocol.flight import DO_PUT_PATH, FlightData, PutResult
from zerobus.schema.parse import schema_from_ddl
from zerobus.server import Grant, LocalZerobusServer

READY = {"ack_up_to_offset": -1, "ack_up_to_records": 0}


def grpc_code(error: Exception) -> str:
    """The gRPC status name pyarrow reports in an error's debug context."""
    match = re.search(r"gRPC client debug context: ([A-Z_]+)", str(error))
    assert match is not None, str(error)
    return match.group(1)


def open_put(
    server: LocalZerobusServer, table: str, schema: pa.Schema | None = None, **kwargs: object
) -> FlightPut:
    schema = schema if schema is not None else server.table_schema(table).arrow_schema()
    return FlightPut(server, schema, flight_headers(server, table), **kwargs)  # type: ignore[arg-type]


# --- the happy path ------------------------------------------------------------------------------


def test_batches_are_acknowledged_and_land_in_delta(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, seen TIMESTAMP, day DATE")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table)
    assert put.result() == READY
    when = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc)
    first = pa.RecordBatch.from_pylist(
        [{"id": 1, "name": "a", "tags": ["x"], "seen": when, "day": dt.date(2024, 5, 1)}, {"id": 2}],
        schema=schema,
    )
    second = pa.RecordBatch.from_pylist([{"id": 3, "name": "c", "tags": []}], schema=schema)
    put.send(first)
    put.send(second)
    acks = put.acks_until(1)
    assert acks[-1] == {"ack_up_to_offset": 1, "ack_up_to_records": 3}
    assert [a["ack_up_to_records"] for a in acks] in ([2, 3], [3])
    put.finish()
    assert zerobus_server.rows(table) == [
        {"id": 1, "name": "a", "tags": ["x"], "seen": when, "day": dt.date(2024, 5, 1)},
        {"id": 2, "name": None, "tags": None, "seen": None, "day": None},
        {"id": 3, "name": "c", "tags": [], "seen": None, "day": None},
    ]


def test_an_empty_batch_takes_an_offset_and_adds_no_rows(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table)
    assert put.result() == READY
    put.send(pa.RecordBatch.from_pylist([], schema=schema))
    put.send(pa.RecordBatch.from_pylist([{"id": 1}], schema=schema))
    assert put.acks_until(1)[-1] == {"ack_up_to_offset": 1, "ack_up_to_records": 1}
    put.finish()
    assert zerobus_server.rows(table) == [{"id": 1, "name": None}]


@pytest.mark.parametrize("compression", ["lz4", "zstd"])
def test_compressed_batches_are_decoded(
    zerobus_server: LocalZerobusServer, zerobus_table, compression: str
) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL, note STRING")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table, compression=compression)
    assert put.result() == READY
    rows = [{"id": i, "note": "same text " * 20} for i in range(500)]
    put.send(pa.RecordBatch.from_pylist(rows, schema=schema))
    put.acks_until(0)
    put.finish()
    assert zerobus_server.rows(table) == rows


def test_every_type_of_the_contract_round_trips(zerobus_server: LocalZerobusServer, zerobus_table) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table(
        "b TINYINT, s SMALLINT, i INT, l BIGINT, f FLOAT, d DOUBLE, ok BOOLEAN, bin BINARY, "
        "p DECIMAL(10,2), day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, v VARIANT, "
        "tags ARRAY<STRING>, m MAP<STRING,INT>, st STRUCT<a: INT, b: ARRAY<BIGINT>>"
    )
    schema = zerobus_server.table_schema(table).arrow_schema()
    row = {
        "b": -128, "s": 32000, "i": -7, "l": 2**40, "f": 1.5, "d": 2.25, "ok": True, "bin": b"\x00\xff",
        "p": decimal.Decimal("12.30"), "day": dt.date(1999, 12, 31),
        "ts": dt.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc),
        "ntz": dt.datetime(2020, 1, 2, 3, 4, 5, 6), "v": '{"k":[1,2]}', "tags": ["a", "b"],
        "m": {"x": 1}, "st": {"a": 1, "b": [5, 6]},
    }  # fmt: skip
    put = open_put(zerobus_server, table)
    put.result()
    put.send(pa.RecordBatch.from_pylist([row], schema=schema))
    put.finish()
    assert zerobus_server.rows(table) == [row]


def test_a_schema_built_without_the_tables_flags_and_names_is_accepted(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    """Order, name case, nullability flags, list child names, 64-bit offsets and left-out
    nullable columns do not matter; the rows land in the table's own schema."""
    table = zerobus_table(
        "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, st STRUCT<a: INT, b: STRING>, gone INT"
    )
    schema = pa.schema(
        [
            ("St", pa.struct([("B", pa.large_string()), ("a", pa.int32())])),
            ("TAGS", pa.large_list(pa.large_string())),
            ("name", pa.large_string()),
            ("ID", pa.int64()),
        ]
    )
    put = open_put(zerobus_server, table, schema)
    assert put.result() == READY
    batch = pa.RecordBatch.from_pylist(
        [{"St": {"B": "b", "a": 1}, "TAGS": ["t"], "name": "n", "ID": 1}, {"ID": 2, "St": None}],
        schema=schema,
    )
    put.send(batch.slice(0, 2))
    put.finish()
    assert zerobus_server.rows(table) == [
        {"id": 1, "name": "n", "tags": ["t"], "st": {"a": 1, "b": "b"}, "gone": None},
        {"id": 2, "name": None, "tags": None, "st": None, "gone": None},
    ]


def test_nested_lists_and_maps_of_structs_are_conformed(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table(
        "id BIGINT NOT NULL, pts ARRAY<STRUCT<x: INT, y: STRING>>, m MAP<STRING, STRUCT<a: BIGINT, b: DATE>>"
    )
    point = pa.struct([("Y", pa.large_string()), ("x", pa.int32())])  # other order and case, no y flag
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("pts", pa.large_list(point)),
            ("m", pa.map_(pa.large_string(), pa.struct([("a", pa.int64())]))),  # b left out
        ]
    )
    rows = [
        {"id": 1, "pts": [{"Y": "p", "x": 1}, None, {"Y": None, "x": 3}], "m": [("k", {"a": 7})]},
        {"id": 2, "pts": None, "m": None},
        {"id": 3, "pts": [], "m": [("k1", None), ("k2", {"a": None})]},
    ]
    put = open_put(zerobus_server, table, schema)
    assert put.result() == READY
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    put.send(batch.slice(1))  # a sliced batch: offsets and children that do not start at 0
    put.send(batch.slice(0, 1))
    put.finish()
    assert zerobus_server.rows(table) == [
        {"id": 2, "pts": None, "m": None},
        {"id": 3, "pts": [], "m": {"k1": None, "k2": {"a": None, "b": None}}},
        {
            "id": 1,
            "pts": [{"x": 1, "y": "p"}, None, {"x": 3, "y": None}],
            "m": {"k": {"a": 7, "b": None}},
        },
    ]


def test_flight_over_tls_on_the_same_port(
    zerobus_tls_server: LocalZerobusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(zerobus_tls_server.ca_file))  # for the token request
    table = "main.tests.flight_over_tls"
    zerobus_tls_server.create_table(table, "id BIGINT NOT NULL")
    try:
        schema = zerobus_tls_server.table_schema(table).arrow_schema()
        put = open_put(zerobus_tls_server, table)
        assert put.result() == READY
        put.send(pa.RecordBatch.from_pylist([{"id": 1}], schema=schema))
        put.finish()
        assert zerobus_tls_server.rows(table) == [{"id": 1}]
    finally:
        zerobus_tls_server.drop_table(table)


def test_records_and_arrow_batches_share_one_table_in_log_order(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    from tests.server.wire_client import open_stream

    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table)
    put.result()
    put.send(pa.RecordBatch.from_pylist([{"id": 1}, {"id": 2}], schema=schema))
    put.acks_until(0)
    with open_stream(zerobus_server, table, json=True) as stream:
        stream.wait_created()
        stream.record(0, '{"id": 3}')
        assert stream.wait_acked(0)
    put.send(pa.RecordBatch.from_pylist([{"id": 4}], schema=schema))
    put.finish()
    assert [row["id"] for row in zerobus_server.rows(table)] == [1, 2, 3, 4]


# --- setup errors: before the ready signal -------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "fragments"),
    [
        (pa.schema([("id", pa.int32())]), ["column 'id'", "bigint", "expected Arrow int64", "got int32"]),
        (
            pa.schema([("id", pa.int64()), ("seen", pa.timestamp("ns", tz="UTC"))]),
            ["column 'seen'", "expected Arrow timestamp[us, tz=UTC]", "got timestamp[ns, tz=UTC]"],
        ),
        (
            pa.schema([("id", pa.int64()), ("seen", pa.timestamp("us"))]),
            ["column 'seen'", "expected Arrow timestamp[us, tz=UTC]", "got timestamp[us]"],
        ),
        (
            pa.schema([("id", pa.int64()), ("price", pa.decimal128(12, 2))]),
            ["column 'price'", "decimal128(10, 2)", "got decimal128(12, 2)"],
        ),
        (
            pa.schema([("id", pa.int64()), ("tags", pa.list_(pa.int32()))]),
            ["column 'tags.element'", "expected Arrow string", "got int32"],
        ),
        (
            pa.schema([("id", pa.int64()), ("name", pa.dictionary(pa.int32(), pa.string()))]),
            ["column 'name'", "expected Arrow string", "dictionary"],
        ),
        (pa.schema([("name", pa.string())]), ["column 'id' is NOT NULL", "no field for it"]),
        (pa.schema([("id", pa.int64()), ("extra", pa.string())]), ["column 'extra'", "does not exist"]),
        (pa.schema([("id", pa.int64()), ("ID", pa.int64())]), ["'id' and 'ID'", "same column"]),
    ],
)
def test_a_schema_the_table_cannot_take_fails_at_setup(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
    schema: pa.Schema,
    fragments: list[str],
) -> None:
    table = zerobus_table(
        "id BIGINT NOT NULL, name STRING, seen TIMESTAMP, price DECIMAL(10,2), tags ARRAY<STRING>"
    )
    put = open_put(zerobus_server, table, schema)
    assert put.result() is None  # no ready signal
    error = put.error()
    assert grpc_code(error) == "INVALID_ARGUMENT"
    for fragment in fragments:
        assert fragment in str(error)


def test_bad_token_unknown_table_and_missing_grants_fail_at_setup(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()

    def setup_error(headers: list[tuple[bytes, bytes]]) -> Exception:
        put = FlightPut(zerobus_server, schema, headers)
        assert put.result() is None
        return put.error()

    error = setup_error(flight_headers(zerobus_server, table, token="not-a-token"))
    assert grpc_code(error) == "UNAUTHENTICATED"
    error = setup_error([(b"x-databricks-zerobus-table-name", table.encode())])
    assert grpc_code(error) == "UNAUTHENTICATED" and "Bearer" in str(error)
    error = setup_error([(b"authorization", f"Bearer {ingest_token(zerobus_server, table)}".encode())])
    assert grpc_code(error) == "INVALID_ARGUMENT" and "x-databricks-zerobus-table-name" in str(error)
    error = setup_error(flight_headers(zerobus_server, "main.tests.no_such_table"))
    assert grpc_code(error) == "NOT_FOUND"
    token = ingest_token(zerobus_server, table)
    error = setup_error(
        [(b"authorization", f"Bearer {token}".encode()), (b"x-databricks-zerobus-table-name", b"main.tests")]
    )
    assert grpc_code(error) == "INVALID_ARGUMENT" and "main.tests" in str(error)
    # A token minted for another table does not open this one.
    other = zerobus_table("id BIGINT NOT NULL")
    error = setup_error(flight_headers(zerobus_server, table, token=ingest_token(zerobus_server, other)))
    assert grpc_code(error) == "PERMISSION_DENIED" and "4024" in str(error)
    zerobus_server.add_principal("flight-writer", "f-secret", [Grant("*", ["ALL PRIVILEGES"])])
    token = ingest_token(zerobus_server, table, client_id="flight-writer", client_secret="f-secret")
    zerobus_server.add_principal("flight-writer", "f-secret", [Grant(table, ["SELECT"])])  # MODIFY revoked
    error = setup_error(flight_headers(zerobus_server, table, token=token))
    assert grpc_code(error) == "PERMISSION_DENIED" and "MODIFY" in str(error)


def test_injected_create_failure_applies_to_flight(zerobus_server: LocalZerobusServer, zerobus_table) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL")
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: try later")
    put = open_put(zerobus_server, table)
    error = put.error()
    assert grpc_code(error) == "UNAVAILABLE" and "injected: try later" in str(error)


# --- batch errors: earlier batches are acknowledged, the bad one is not stored ---------------------------


def _bad_batch_error(
    server: LocalZerobusServer, table: str, bad: pa.RecordBatch, metadata: bytes | None = None
) -> Exception:
    """Send a good batch (id 100), then `bad`; check only the good one is acknowledged and stored."""
    put = open_put(server, table, bad.schema)
    assert put.result() == READY
    put.send(pa.RecordBatch.from_pylist([{"id": 100}], schema=bad.schema))
    put.send(bad, metadata)
    acks = []
    while (ack := put.result()) is not None:
        acks.append(ack)
    assert acks == [{"ack_up_to_offset": 0, "ack_up_to_records": 1}]
    error = put.error()
    assert [row["id"] for row in server.rows(table)] == [100]
    return error


@pytest.mark.parametrize(
    ("metadata", "fragments"),
    [
        (b'{"offset_id": 2}', ["offset_id 2 is a gap", "expected 1"]),
        (b'{"offset_id": 0}', ["offset_id 0 is a duplicate", "expected 1"]),
        (b"", ["app_metadata must be JSON", "offset_id"]),
        (b'{"offset_id": "1"}', ["app_metadata must be JSON", '\'{"offset_id": "1"}\'']),
        (b"not json", ["app_metadata must be JSON", "not json"]),
    ],
)
def test_offsets_must_be_sequential_json(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
    metadata: bytes,
    fragments: list[str],
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    error = _bad_batch_error(
        zerobus_server, table, pa.RecordBatch.from_pylist([{"id": 1}], schema=schema), metadata
    )
    assert grpc_code(error) == "INVALID_ARGUMENT"
    for fragment in fragments:
        assert fragment in str(error)


@pytest.mark.parametrize(
    ("columns", "arrow_schema", "row", "fragments"),
    [
        (
            "id BIGINT NOT NULL",
            pa.schema([("id", pa.int64())]),
            {"id": None},
            ["4044", "field 'id'", "NOT NULL"],
        ),
        (
            "id BIGINT NOT NULL, st STRUCT<a: INT NOT NULL>",
            pa.schema([("id", pa.int64()), ("st", pa.struct([("a", pa.int32())]))]),
            {"id": 5, "st": {"a": None}},
            ["field 'st.a'", "NOT NULL"],
        ),
        (
            "id BIGINT NOT NULL, seen TIMESTAMP",
            pa.schema([("id", pa.int64()), ("seen", pa.timestamp("us", tz="UTC"))]),
            {"id": 5, "seen": 2**62},
            ["field 'seen'", "microseconds since the epoch (TIMESTAMP)"],
        ),
        (
            "id BIGINT NOT NULL, v VARIANT",
            pa.schema([("id", pa.int64()), ("v", pa.string())]),
            {"id": 5, "v": "{not json"},
            ["field 'v'", "VARIANT takes JSON text"],
        ),
    ],
)
def test_rows_the_table_cannot_hold_are_refused(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
    columns: str,
    arrow_schema: pa.Schema,
    row: dict[str, object],
    fragments: list[str],
) -> None:
    table = zerobus_table(columns)
    bad = pa.RecordBatch.from_pylist([{"id": 7}, row], schema=arrow_schema)
    error = _bad_batch_error(zerobus_server, table, bad)
    assert grpc_code(error) == "INVALID_ARGUMENT"
    assert "batch at offset 1, row 1" in str(error)
    for fragment in fragments:
        assert fragment in str(error)


def test_a_date_out_of_range_is_refused(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, day DATE")
    schema = zerobus_server.table_schema(table).arrow_schema()
    days = pa.array([0, 3_000_000], type=pa.int32()).cast(pa.date32())  # year ~10183
    bad = pa.RecordBatch.from_arrays([pa.array([1, 2], pa.int64()), days], schema=schema)
    error = _bad_batch_error(zerobus_server, table, bad)
    assert "row 1" in str(error) and "field 'day'" in str(error) and "3000000" in str(error)


def test_a_flightdata_over_the_size_limit_is_refused(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL, blob BINARY")
    schema = zerobus_server.table_schema(table).arrow_schema()
    big = pa.RecordBatch.from_pylist([{"id": 1, "blob": b"x" * (10 * 2**20 + 1)}], schema=schema)
    put = open_put(zerobus_server, table)
    assert put.result() == READY
    put.send(big)
    error = put.error()
    assert grpc_code(error) == "INVALID_ARGUMENT"
    assert "over the 10485760-byte limit" in str(error)
    assert zerobus_server.rows(table) == []


# --- faults and durability ------------------------------------------------------------------------------


def test_withheld_acks_are_released_cumulatively(zerobus_server: LocalZerobusServer, zerobus_table) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table)
    put.result()
    zerobus_server.faults.withhold_acks()
    for i in range(3):
        put.send(pa.RecordBatch.from_pylist([{"id": i}], schema=schema))
    # Stored durably while the acks are held: readable through the table.
    assert wait_until(lambda: len(zerobus_server.rows(table)) == 3)
    assert [row["id"] for row in zerobus_server.rows(table)] == [0, 1, 2]
    zerobus_server.faults.release_acks()
    assert put.result() == {"ack_up_to_offset": 2, "ack_up_to_records": 3}
    put.finish()


def test_a_dropped_call_keeps_what_it_stored(zerobus_server: LocalZerobusServer, zerobus_table) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    zerobus_server.faults.end_call_after(records=3, code=None)
    put = open_put(zerobus_server, table)
    put.result()
    put.send(pa.RecordBatch.from_pylist([{"id": 0}, {"id": 1}], schema=schema))
    put.send(pa.RecordBatch.from_pylist([{"id": 2}], schema=schema))
    acks = []
    while (ack := put.result()) is not None:
        acks.append(ack)
    with pytest.raises((flight.FlightError, pa.ArrowException)) as ended:
        put.status()
    # A reset stream, not a status the server chose: gRPC reports it with a retryable code.
    assert grpc_code(ended.value) in ("CANCELLED", "INTERNAL", "UNAVAILABLE"), str(ended.value)
    assert all(ack["ack_up_to_offset"] < 1 for ack in acks)  # the batch crossing the threshold: unacked
    assert [row["id"] for row in zerobus_server.rows(table)] == [0, 1, 2]  # ...but stored (at-least-once)


def test_acknowledged_batches_survive_a_restart_exactly_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = "main.default.events"
    columns = {table: "id BIGINT NOT NULL, name STRING"}
    with LocalZerobusServer(data_dir=tmp_path, materialize_delay_s=3600, tables=columns) as server:
        schema = server.table_schema(table).arrow_schema()
        put = open_put(server, table)
        put.result()
        put.send(pa.RecordBatch.from_pylist([{"id": i, "name": f"n{i}"} for i in range(1000)], schema=schema))
        put.acks_until(0)
        server.flush_materialization()  # the first batch is in Delta before the restart...
        put.send(pa.RecordBatch.from_pylist([{"id": 1000, "name": None}], schema=schema))
        put.acks_until(1)  # ...the second only in the log (stop() materialises it)
        put.close()
    with LocalZerobusServer(data_dir=tmp_path, materialize_delay_s=3600) as server:
        assert [row["id"] for row in server.rows(table)] == list(range(1001))
        # The restarted server continues the same log, and writes nothing twice.
        put = open_put(server, table)
        put.result()
        put.send(pa.RecordBatch.from_pylist([{"id": 1001}], schema=schema))
        put.finish()
        assert [row["id"] for row in server.rows(table)] == list(range(1002))


def test_a_call_outliving_the_stream_lifetime_ends_with_6002(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Flight has no CloseStreamSignal: the call just ends with the retryable 6002 status."""
    table = "main.default.events"
    with LocalZerobusServer(
        data_dir=tmp_path,
        max_stream_duration_s=0.3,
        close_signal_lead_s=0.1,
        tables={table: "id BIGINT NOT NULL"},
    ) as server:
        schema = server.table_schema(table).arrow_schema()
        put = open_put(server, table)
        assert put.result() == READY
        put.send(pa.RecordBatch.from_pylist([{"id": 1}], schema=schema))
        assert put.acks_until(0)[-1] == {"ack_up_to_offset": 0, "ack_up_to_records": 1}
        error = put.error()  # the server ends the call on its own, after the lifetime
        assert grpc_code(error) == "UNAVAILABLE" and "Error code 6002" in str(error)
        assert server.stats.close_signals_sent == 0
        assert server.rows(table) == [{"id": 1}]


# --- malformed FlightData, sent raw (pyarrow's client only sends well-formed ones) ----------------------


def _raw_put(
    server: LocalZerobusServer, table: str, messages: list[bytes]
) -> tuple[list[bytes], grpc.RpcError | None]:
    """Send `messages` as the DoPut's FlightData, half-close; (responses, the final error)."""
    headers = [(key.decode(), value.decode()) for key, value in flight_headers(server, table)]
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        call = channel.stream_stream(DO_PUT_PATH, request_serializer=bytes, response_deserializer=bytes)
        responses: list[bytes] = []
        try:
            for response in call(iter(messages), metadata=headers, timeout=30):
                responses.append(response)
        except grpc.RpcError as error:
            return responses, error
    return responses, None


def _flight_data(header: bytes, body: bytes = b"", metadata: bytes = b"") -> bytes:
    data: bytes = FlightData(data_header=header, data_body=body, app_metadata=metadata).SerializeToString()
    return data


def _ipc_pieces(serialized: pa.Buffer) -> tuple[bytes, bytes]:
    """(flatbuffer header, body) of an encapsulated IPC message."""
    message = pa.ipc.read_message(serialized)
    metadata = message.metadata.to_pybytes()
    return metadata, message.body.to_pybytes() if message.body is not None else b""


def test_malformed_flightdata_is_refused_and_nothing_of_it_is_stored(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    schema_header, _ = _ipc_pieces(schema.serialize())
    batch = pa.RecordBatch.from_pylist([{"id": 1}, {"id": 2}], schema=schema)
    batch_header, body = _ipc_pieces(batch.serialize())
    good = _flight_data(batch_header, body, b'{"offset_id": 0}')
    cases = {
        "not protobuf": ([b"\xff\xff\xff"], "not an Arrow IPC message"),
        "no schema first": ([good], "must carry the Arrow schema, got a record batch"),
        "garbage header": (
            [_flight_data(schema_header), good, _flight_data(b"garbage", b"", b'{"offset_id": 1}')],
            "offset 1",
        ),
        "body longer than its header says": (
            [
                _flight_data(schema_header),
                good,
                _flight_data(batch_header, body + bytes(8), b'{"offset_id": 1}'),
            ],
            f"{len(body) + 8}-byte body",
        ),
        "body shorter": (
            [_flight_data(schema_header), good, _flight_data(batch_header, body[:8], b'{"offset_id": 1}')],
            "offset 1",
        ),
        "a second schema": (
            [_flight_data(schema_header), good, _flight_data(schema_header, b"", b'{"offset_id": 1}')],
            "only record batches may follow the schema",
        ),
    }
    for name, (messages, fragment) in cases.items():
        responses, error = _raw_put(zerobus_server, table, messages)
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert fragment in (error.details() or ""), (name, error.details())
        acks = [json.loads(PutResult.FromString(raw).app_metadata) for raw in responses]
        if len(messages) == 1:  # a setup failure: no ready signal
            assert acks == [], name
        else:  # the good batch at offset 0 is acknowledged, never the bad one
            assert acks[0] == READY and acks[-1]["ack_up_to_offset"] <= 0, (name, acks)
    # Only the good batches (each case's offset 0) were stored; nothing of the bad ones.
    assert [row["id"] for row in zerobus_server.rows(table)] == [1, 2] * 4


def test_acknowledged_batches_survive_kill_9_exactly_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal

    import requests

    from tests.server.test_durability import _Endpoints, _start_cli
    from zerobus.oauth import fetch_metadata_token

    data_dir, ready = tmp_path / "data", tmp_path / "ready.json"
    table = "main.default.crash"  # id BIGINT NOT NULL, payload STRING
    process = _start_cli(data_dir, ready)
    try:
        endpoints = _Endpoints(ready)
        endpoints.grpc_port = int(endpoints.grpc_endpoint.rsplit(":", 1)[1])  # type: ignore[attr-defined]
        schema = pa.schema([pa.field("id", pa.int64(), nullable=False), ("payload", pa.string())])
        put = FlightPut(endpoints, schema, flight_headers(endpoints, table))  # type: ignore[arg-type]
        assert put.result() == READY
        put.send(pa.RecordBatch.from_pylist([{"id": i, "payload": "a"} for i in range(100)], schema=schema))
        put.acks_until(0)
        # Materialise the first batch (the rows endpoint flushes), then add more.
        token = fetch_metadata_token(endpoints.workspace_url, endpoints.client_id, endpoints.client_secret)
        rows = requests.get(
            f"{endpoints.workspace_url}/api/2.0/zerobus-emulator/tables/{table}/rows",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert len(rows.json()["rows"]) == 100
        for offset in range(1, 11):
            put.send(
                pa.RecordBatch.from_pylist(
                    [{"id": offset * 1000 + i, "payload": "b"} for i in range(50)], schema=schema
                )
            )
        assert put.acks_until(10)[-1] == {"ack_up_to_offset": 10, "ack_up_to_records": 600}
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        put.close()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    with LocalZerobusServer(data_dir=data_dir) as server:
        ids = [row["id"] for row in server.rows(table)]
    assert len(ids) == 600 and len(set(ids)) == 600


def test_data_contradicting_its_own_type_is_refused(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:  # type: ignore[no-untyped-def]
    """Arrow lets a producer put bytes in a buffer that its type forbids; Delta must never get them."""
    columns = "id BIGINT NOT NULL, price DECIMAL(5,2), name STRING"
    schema = schema_from_ddl(columns, "main.tests.t").arrow_schema()
    too_precise = pa.array([None, decimal.Decimal("12345.67")], pa.decimal128(7, 2)).view(pa.decimal128(5, 2))
    not_utf8 = pa.array([None, b"\xff\xfe"], pa.binary()).view(pa.string())
    for column, values, fragment in [
        ("price", too_precise, "precision"),
        ("name", not_utf8, "UTF8"),
    ]:
        arrays = [pa.array([1, 2], pa.int64()), pa.nulls(2, pa.decimal128(5, 2)), pa.nulls(2, pa.string())]
        arrays[schema.names.index(column)] = values
        bad = pa.RecordBatch.from_arrays(arrays, schema=schema)
        error = _bad_batch_error(zerobus_server, zerobus_table(columns), bad)
        assert "invalid Arrow data" in str(error) and fragment in str(error), str(error)


def test_a_utc_offset_spelling_of_the_zone_is_accepted(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:  # type: ignore[no-untyped-def]
    table = zerobus_table("id BIGINT NOT NULL, seen TIMESTAMP")
    schema = pa.schema([("id", pa.int64()), ("seen", pa.timestamp("us", tz="+00:00"))])
    put = open_put(zerobus_server, table, schema)
    assert put.result() == READY
    put.send(
        pa.RecordBatch.from_arrays(
            [pa.array([1]), pa.array([86_400_000_000], pa.timestamp("us", tz="+00:00"))], schema=schema
        )
    )
    put.finish()
    assert zerobus_server.rows(table) == [{"id": 1, "seen": dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)}]


def test_an_injected_close_signal_ends_a_flight_call_after_its_duration(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    schema = zerobus_server.table_schema(table).arrow_schema()
    put = open_put(zerobus_server, table)
    assert put.result() == READY
    put.send(pa.RecordBatch.from_pylist([{"id": 1}], schema=schema))
    put.acks_until(0)
    assert zerobus_server.faults.send_close_signal(50) >= 1
    error = put.error()
    assert grpc_code(error) == "UNAVAILABLE" and "Error code 6002" in str(error)
    assert zerobus_server.rows(table) == [{"id": 1}]
