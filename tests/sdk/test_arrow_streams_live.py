"""Arrow Flight streams of both drivers against the local server: rows read back from Delta.

`create_arrow_stream` (docs/PROTOCOL.md section 9) with pyarrow's own Flight client: batches,
tables and DataFrames ingested; the schema from Unity Catalog; refusals before anything is
sent; the 10 MiB request limit; recovery after a dropped call and a server-ended call; the
in-flight window; what is left unacknowledged after a terminal failure.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import grpc
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from tests.sdk.drivers import AioDriver, AioStream, SyncDriver
from tests.server.wire_client import ingest_token
from zerobus.errors import InvalidRecordError, NonRetriableException, SchemaError, ZerobusException
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions, IPCCompression
from zerobus.sdk.shared.arrow_batches import conform
from zerobus.sdk.shared.arrow_flight import FlightCall
from zerobus.server import LocalZerobusServer

DDL = "id BIGINT NOT NULL, name STRING"
FAST = {"recovery_backoff_ms": 50, "recovery_timeout_ms": 5_000, "flush_timeout_ms": 30_000}


def fast(**changes: Any) -> ArrowStreamConfigurationOptions:
    return ArrowStreamConfigurationOptions(**{**FAST, **changes})


def open_arrow(driver: SyncDriver | AioDriver, server: LocalZerobusServer, table: str, *args: Any) -> Any:
    """`create_arrow_stream(table, schema, client_id, client_secret, options)` on either driver."""
    schema, options = (*args, None, None)[:2]
    arguments = (table, schema, server.client_id, server.client_secret, options)
    if isinstance(driver, AioDriver):
        return AioStream(driver, driver.run(lambda: driver.sdk.create_arrow_stream(*arguments)))  # type: ignore[arg-type]
    return driver.sdk.create_arrow_stream(*arguments)


def rows_of(ids: range) -> pa.Table:
    return pa.table({"id": list(ids), "name": [f"n{i}" for i in ids]})


def stored_ids(server: LocalZerobusServer, table: str, count: int) -> list[int]:
    server.wait_for_rows(table, count)
    return sorted(row["id"] for row in server.rows(table))


def test_batches_tables_and_dataframes_land_in_delta_with_the_schema_from_unity_catalog(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table)  # schema None: the table's own
    assert stream.table_name == table and not stream.is_closed
    offsets = [
        stream.ingest_batch(rows_of(range(0, 2)).to_batches()[0]),
        stream.ingest_batch(rows_of(range(2, 4))),
        stream.ingest_batch(pl.DataFrame({"id": [4, 5], "name": ["n4", "n5"]})),
        stream.ingest_batch(pd.DataFrame({"name": ["n6", None], "id": [6, 7]})),
    ]
    assert offsets == [0, 1, 2, 3]
    stream.wait_for_offset(3)
    stream.close()
    stream.close()  # idempotent
    assert stream.is_closed
    zerobus_server.wait_for_rows(table, 8)
    assert sorted(zerobus_server.rows(table), key=lambda row: row["id"]) == [
        {"id": i, "name": None if i == 7 else f"n{i}"} for i in range(8)
    ]


def test_compressed_batches_land_in_delta(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])
    stream = open_arrow(driver, zerobus_server, table, schema, fast(ipc_compression=IPCCompression.ZSTD))
    stream.ingest_batch(rows_of(range(100)))
    stream.close()
    assert stored_ids(zerobus_server, table, 100) == list(range(100))


def test_a_batch_that_does_not_fit_the_schema_is_refused_before_anything_is_sent(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table)
    received = zerobus_server.core.stats.requests_received
    with pytest.raises(SchemaError, match=r"column 'id': expected Arrow type int64, given string"):
        stream.ingest_batch(pa.table({"id": ["1"], "name": ["a"]}))
    with pytest.raises(
        SchemaError, match=r"column 'age': the batch has a column the stream's schema does not"
    ):
        stream.ingest_batch(pa.table({"id": [1], "age": [3]}))
    with pytest.raises(InvalidRecordError, match=r"field 'id': row 1 is null, but the column is NOT NULL"):
        stream.ingest_batch(pa.table({"id": [1, None]}))
    assert zerobus_server.core.stats.requests_received == received
    stream.ingest_batch(rows_of(range(3)))  # the stream is still usable
    stream.close()
    assert stored_ids(zerobus_server, table, 3) == [0, 1, 2]


def test_a_schema_the_table_cannot_take_fails_at_creation(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    # The refusal ends the call before the ready signal: creation fails then, not at the timeout
    # (an hour here: past the test's own deadline).
    options = fast(connection_timeout_ms=3_600_000)
    with pytest.raises(
        NonRetriableException, match=r"INVALID_ARGUMENT.*column 'id'.*expected Arrow int64, got string"
    ):
        open_arrow(driver, zerobus_server, table, pa.schema([("id", pa.string())]), options)


def test_a_table_over_the_request_limit_is_split_and_a_row_over_it_refused(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, blob BINARY")
    stream = open_arrow(driver, zerobus_server, table)
    stats = zerobus_server.core.stats
    requests_before, bytes_before = stats.requests_received, stats.bytes_received
    megabyte = b"x" * (1024 * 1024)
    last = stream.ingest_batch(pa.table({"id": list(range(24)), "blob": [megabyte] * 24}))  # 24 MiB
    assert last >= 2  # several batches: the offset of the last one
    stream.flush()
    sent = stats.requests_received - requests_before
    assert sent == last + 1 and (stats.bytes_received - bytes_before) / sent <= 10 * 1024 * 1024
    with pytest.raises(
        InvalidRecordError, match=r"row 1 alone is .* bytes in Arrow IPC; a request holds at most 10 MiB"
    ):
        stream.ingest_batch(pa.table({"id": [24, 25], "blob": [b"", b"y" * (11 * 1024 * 1024)]}))
    stream.close()
    assert stored_ids(zerobus_server, table, 24) == list(range(24))


def test_a_dropped_call_is_recovered_and_unacknowledged_batches_resent_in_order(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    ended = zerobus_server.faults.calls_ended
    zerobus_server.faults.end_call_after(records=30, code=None)  # like a lost connection
    offsets = [stream.ingest_batch(rows_of(range(start, start + 10))) for start in range(0, 100, 10)]
    stream.flush()
    assert offsets == list(range(10))  # logical offsets keep growing across the new call
    assert zerobus_server.faults.calls_ended == ended + 1
    stream.close()
    zerobus_server.wait_for_rows(table, 100)
    ids = [row["id"] for row in zerobus_server.rows(table)]
    assert sorted(set(ids)) == list(range(100))  # at-least-once: resent batches may repeat


def test_a_server_ended_call_is_recovered_with_every_row_exactly_once(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    stream.ingest_batch(rows_of(range(0, 50)))
    stream.flush()
    assert zerobus_server.faults.send_close_signal(0) >= 1  # Flight: the call ends with 6002
    for start in range(50, 100, 10):
        stream.ingest_batch(rows_of(range(start, start + 10)))
    stream.close()
    assert stored_ids(zerobus_server, table, 100) == list(range(100))


def test_withheld_acks_hold_the_window_and_the_stream_fails_keeping_what_was_unacknowledged(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    options = fast(max_inflight_batches=2, recovery=False, server_lack_of_ack_timeout_ms=500)
    stream = open_arrow(driver, zerobus_server, table, None, options)
    zerobus_server.faults.withhold_acks()
    first, second = rows_of(range(0, 2)), rows_of(range(2, 4))
    assert [stream.ingest_batch(first), stream.ingest_batch(second)] == [0, 1]
    with pytest.raises(ZerobusException, match=r"no acknowledgement from the server for 0.5s"):
        stream.ingest_batch(rows_of(range(4, 6)))  # waits for room that never comes
    assert stream.is_closed
    unacked = stream.get_unacked_batches()
    assert [batch.to_pylist() for batch in unacked] == [first.to_pylist(), second.to_pylist()]
    with pytest.raises(ZerobusException, match=r"no acknowledgement"):
        stream.flush()


def test_a_terminal_failure_keeps_exactly_the_unacknowledged_batches_and_recreate_resends_them(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    zerobus_server.faults.fail_after(
        records=4, code=grpc.StatusCode.INVALID_ARGUMENT, message="injected refusal"
    )
    batches = [rows_of(range(start, start + 2)) for start in range(0, 10, 2)]
    stream.ingest_batch(batches[0])
    stream.ingest_batch(batches[1])
    stream.wait_for_offset(1)
    with pytest.raises(
        NonRetriableException, match=r"Stream is closed: INVALID_ARGUMENT: .*injected refusal"
    ):
        for batch in batches[2:]:
            stream.ingest_batch(batch)
        stream.flush()
    unacked = [batch.to_pylist() for batch in stream.get_unacked_batches()]
    assert unacked and unacked == [batch.to_pylist() for batch in batches[2 : 2 + len(unacked)]]
    if isinstance(driver, AioDriver):
        again = AioStream(driver, driver.run(lambda: driver.sdk.recreate_arrow_stream(stream.inner)))
    else:
        again = driver.sdk.recreate_arrow_stream(stream)
    for batch in batches[2 + len(unacked) :]:
        again.ingest_batch(batch)
    again.close()
    assert stored_ids(zerobus_server, table, 10) == list(range(10))


def test_arrow_streams_work_over_tls_with_the_sdk_trust_roots(zerobus_tls_server: LocalZerobusServer) -> None:
    server = zerobus_tls_server
    table = "main.tests.arrow_stream_over_tls"
    server.create_table(table, DDL)
    driver = SyncDriver(server.grpc_endpoint, server.workspace_url, root_certificates=server.ca_file)
    try:
        stream = open_arrow(driver, server, table)
        stream.ingest_batch(rows_of(range(5)))
        stream.close()
        assert stored_ids(server, table, 5) == list(range(5))
    finally:
        driver.close()
        server.drop_table(table)


class TokenHeaders:
    """A custom headers provider: a token minted once, the table header it must not override."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_headers(self) -> list[tuple[str, str]]:
        return [
            ("authorization", f"Bearer {self.token}"),
            ("x-databricks-zerobus-table-name", "main.other.table"),
        ]


def test_a_headers_provider_authenticates_and_cannot_redirect_the_table(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        provider = TokenHeaders(ingest_token(zerobus_server, table))
        stream = driver.sdk.create_arrow_stream_with_headers_provider(table, None, provider)
        stream.ingest_batch(rows_of(range(4)))
        stream.close()
        assert stored_ids(zerobus_server, table, 4) == [0, 1, 2, 3]
    finally:
        driver.close()


def test_cancelling_an_asyncio_ingest_gives_up_its_wait_and_the_stream_goes_on(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    driver = AioDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = open_arrow(driver, zerobus_server, table, None, fast(max_inflight_batches=1)).inner
        zerobus_server.faults.withhold_acks()

        async def cancelled_ingest() -> bool:
            await stream.ingest_batch(rows_of(range(0, 2)))
            waiting = asyncio.ensure_future(stream.ingest_batch(rows_of(range(2, 4))))
            done, _ = await asyncio.wait([waiting], timeout=0.2)  # the window is full: still waiting
            assert not done
            waiting.cancel()
            try:
                await waiting
            except asyncio.CancelledError:
                return True
            return False

        assert driver.run(cancelled_ingest)
        zerobus_server.faults.release_acks()
        driver.run(lambda: stream.ingest_batch(rows_of(range(2, 4))))
        driver.run(stream.close)
        assert stored_ids(zerobus_server, table, 4) == [0, 1, 2, 3]
    finally:
        driver.close()


def test_a_write_to_a_call_the_server_ended_reports_the_calls_own_retryable_status(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    # pyarrow's write only says "Destination already closed" (an ArrowInvalid, which alone reads as
    # INVALID_ARGUMENT): the stream must recover with the call's own status, not fail on that.
    table = zerobus_table(DDL)
    ended = threading.Event()
    headers = [("authorization", f"Bearer {ingest_token(zerobus_server, table)}")]
    call = FlightCall.open(
        f"grpc://127.0.0.1:{zerobus_server.grpc_port}",
        None,
        "tests",
        headers,
        table,
        zerobus_server.table_schema(table).arrow_schema(),
        None,
        lambda _call, _offset: None,
        lambda _call, _error: ended.set(),
    )
    call.wait_ready(10)
    assert zerobus_server.faults.send_close_signal(0) >= 1
    assert ended.wait(10)
    assert call.final_status() is not None  # what the stream does first when a call ends: read its status
    batch = conform(rows_of(range(2)), zerobus_server.table_schema(table).arrow_schema()).to_batches()[0]
    with pytest.raises((OSError, pa.ArrowException)) as refused:
        for offset in range(100):  # the first writes may still be buffered by gRPC
            call.send(batch, offset)
    failure = call.write_failure(refused.value, 10)
    assert not isinstance(failure, NonRetriableException)
    assert "Error code 6002" in str(failure)
