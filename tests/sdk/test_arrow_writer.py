"""An Arrow stream's writer thread: batches queued by `ingest_batch`, written in order on their call.

`ingest_batch` returns once its batch is in the stream (the ledger) and queued; the writer thread
writes the queue in offset order while the caller goes on. The promises stay those of a caller
that writes itself: every batch delivered in order across a dropped call, a replaced call's
queued batches left to the recovery's resend, a failed write reported to the stream, nothing
written after a call is abandoned, and the thread gone once the stream is closed or failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import grpc
import pyarrow as pa
import pytest

from benchmarks.flight_ack_sink import AckingCall
from benchmarks.h2_peer import H2Peer
from tests.sdk.drivers import SyncDriver
from tests.sdk.test_arrow_streams_live import DDL, fast, open_arrow, rows_of
from tests.server.wire_client import ingest_token
from tests.support.waiting import wait_until
from zerobus.errors import NonRetriableException
from zerobus.protocol.flight import DO_PUT_PATH
from zerobus.sdk.shared.arrow_batches import conform
from zerobus.sdk.shared.arrow_flight import FlightCall
from zerobus.sdk.shared.arrow_writer import BatchWriter
from zerobus.sdk.sync import ZerobusSdk
from zerobus.server import LocalZerobusServer

WRITER = "zerobus-arrow-writer"
BATCH = pa.record_batch({"id": [1]})


class RecordingCall:
    """Stands in for a FlightCall's `send` (the writer only calls that)."""

    def __init__(self, fail_at: set[int] | None = None) -> None:
        self.sent: list[int] = []
        self.fail_at = fail_at or set()

    def send(self, batch: pa.RecordBatch, physical: int) -> None:
        if physical in self.fail_at:
            raise OSError(f"write {physical} refused")
        self.sent.append(physical)


def writer_threads() -> int:
    return sum(thread.name == WRITER for thread in threading.enumerate())


def run_writer(
    items: list[tuple[RecordingCall, int]], current: Callable[[Any], bool]
) -> list[tuple[Any, str]]:
    """Queue `items`, stop, wait for the thread to end; the failures it reported."""
    failures: list[tuple[Any, str]] = []
    before = writer_threads()
    writer = BatchWriter(current, lambda call, error: failures.append((call, str(error))))
    for call, physical in items:
        writer.put(cast(FlightCall, call), physical, BATCH)
    writer.stop()
    assert wait_until(lambda: writer_threads() == before)
    return failures


def test_the_writer_writes_in_queue_order_and_skips_a_replaced_calls_batches() -> None:
    old, new = RecordingCall(), RecordingCall()
    items = [(old, 0), (old, 1), (new, 0), (new, 1), (new, 2)]
    assert run_writer(items, lambda call: call is new) == []
    assert old.sent == [] and new.sent == [0, 1, 2]


def test_a_failed_write_is_reported_with_its_call_and_the_writer_goes_on() -> None:
    call = RecordingCall(fail_at={1})
    failures = run_writer([(call, 0), (call, 1), (call, 2)], lambda _call: True)
    assert failures == [(call, "write 1 refused")]
    assert call.sent == [0, 2]  # whether to resend is the stream's decision, not the writer's


def test_batches_queued_when_the_call_drops_all_arrive_in_order(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = open_arrow(driver, zerobus_server, table, None, fast())
        zerobus_server.faults.end_call_after(records=150, code=None)  # mid-queue, like a lost connection
        offsets = [stream.ingest_batch(rows_of(range(start, start + 3))) for start in range(0, 300, 3)]
        stream.close()
        assert offsets == list(range(100))
        assert stream.stats().recoveries >= 1
        zerobus_server.wait_for_rows(table, 300)
        ids = [row["id"] for row in zerobus_server.rows(table)]
        first_seen = list(dict.fromkeys(ids))  # resent batches may repeat; order is what counts
        assert first_seen == list(range(300))
    finally:
        driver.close()


def test_the_writer_thread_ends_when_the_stream_is_closed_or_fails(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        before = writer_threads()
        closed = open_arrow(driver, zerobus_server, table, None, fast())
        assert writer_threads() == before + 1
        closed.ingest_batch(rows_of(range(3)))
        closed.close()
        assert wait_until(lambda: writer_threads() == before)

        failing = open_arrow(driver, zerobus_server, table, None, fast())
        zerobus_server.faults.fail_after(records=2, code=grpc.StatusCode.INVALID_ARGUMENT, message="refused")
        with pytest.raises(NonRetriableException, match="refused"):
            for start in range(0, 30, 3):
                failing.ingest_batch(rows_of(range(start, start + 3)))
            failing.flush()
        assert wait_until(lambda: writer_threads() == before)  # failed: nothing more to write
        assert failing.get_unacked_batches()  # and what was not acknowledged is kept
    finally:
        driver.close()


def test_an_abandoned_call_takes_no_more_writes(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    # A batch the writer picked up just before a recovery abandoned its call is not written
    # there (the recovery resends it on the new call): neither an error nor a late write.
    table = zerobus_table(DDL)
    schema = zerobus_server.table_schema(table).arrow_schema()
    acked: list[int] = []
    call = FlightCall.open(
        f"grpc://127.0.0.1:{zerobus_server.grpc_port}",
        None,
        "tests",
        [("authorization", f"Bearer {ingest_token(zerobus_server, table)}")],
        table,
        schema,
        None,
        lambda _call, offset: acked.append(offset),
        lambda _call, _error: None,
    )
    call.wait_ready(10)
    batch = conform(rows_of(range(2)), schema).to_batches()[0]
    call.send(batch, 0)
    call.abort()
    call.send(batch, 1)  # quietly not written
    assert call.finish(10) is None
    assert acked == [0]  # the server acknowledged everything it got before it ended the call
    zerobus_server.wait_for_rows(table, 2)
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == [0, 1]


def test_ingest_batch_does_not_wait_for_the_network_and_flush_does(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    # A Flight server that stops reading (the benchmarks' peer, on real TCP): the batches go on
    # being taken by ingest_batch, far beyond what the sockets buffer, and arrive once it reads.
    table = zerobus_table(DDL)
    peer = H2Peer(DO_PUT_PATH, AckingCall)
    peer.start()
    sdk = ZerobusSdk(f"http://127.0.0.1:{peer.port}", zerobus_server.workspace_url)
    try:
        schema = zerobus_server.table_schema(table).arrow_schema()
        stream = sdk.create_arrow_stream(
            table, schema, zerobus_server.client_id, zerobus_server.client_secret, fast()
        )
        big = pa.table({"id": list(range(1000)), "name": ["x" * 2000] * 1000})  # 2 MB
        peer.reading.clear()
        offsets: list[int] = []
        ingesting = threading.Thread(
            target=lambda: offsets.extend(stream.ingest_batch(big) for _ in range(32))
        )
        ingesting.start()
        ingesting.join(20)
        taken_while_stalled, acked_while_stalled = len(offsets), stream.stats().acknowledged_batches
        peer.reading.set()
        ingesting.join(30)
        assert (taken_while_stalled, acked_while_stalled < 32) == (32, True)  # 64 MB taken, not delivered
        stream.flush()
        stats = stream.stats()
        assert (offsets, stats.acknowledged_batches, stats.in_flight_batches) == (list(range(32)), 32, 0)
        stream.close()
    finally:
        peer.reading.set()
        sdk.close()
        peer.stop(None)
