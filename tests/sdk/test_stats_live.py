"""Stream, pool and SDK stats against the local server, both drivers; structured log fields."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options, ids
from tests.sdk.drivers import AioDriver, SyncDriver
from zerobus.errors import NonRetriableException
from zerobus.sdk.shared import StreamState, TableProperties
from zerobus.server import LocalZerobusServer

Driver = SyncDriver | AioDriver


def call(driver: Driver, function: Callable[..., Any], *args: Any) -> Any:
    """Run an SDK or pool method the way its driver runs: in the event loop for asyncio."""
    if isinstance(driver, AioDriver):
        return driver.run(function, *args)
    return function(*args)


def open_stream(driver: Driver, server: LocalZerobusServer, table: str, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table), fast_options(**options)
    )


def test_a_stream_counts_what_it_sent_and_the_server_acknowledged(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    stream = open_stream(driver, zerobus_server, events_table)
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i, "name": "x" * i} for i in range(50)])
    driver.ingest_all(stream, "ingest_records_offset", [[{"id": 50 + i} for i in range(25)]] * 2)
    stream.flush()

    stats = stream.stats()
    assert stats.table_name == events_table and stats.stream_id == stream.stream_id
    assert stats.state is StreamState.OPENED
    assert (stats.ingested_records, stats.acknowledged_records) == (100, 100)
    assert (stats.queued_records, stats.in_flight_records, stats.recoveries) == (0, 0, 0)
    assert stats.last_error is None
    # Record 49 alone carries 49 bytes of name: the sizes are the records', not a count.
    assert stats.acknowledged_bytes == stats.sent_bytes > 49 + sum(range(49))
    assert 1 <= stats.sent_requests <= 52
    assert stats.ack_latency_p50_s is not None and stats.ack_latency_p99_s is not None
    assert 0 <= stats.ack_latency_p50_s <= stats.ack_latency_p99_s
    stream.close()
    assert stream.stats().state is StreamState.CLOSED
    assert len(ids(zerobus_server.rows(events_table))) == 100


def test_a_recovery_is_counted_with_its_error_and_records_are_acknowledged_once(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    stream = open_stream(driver, zerobus_server, events_table)
    zerobus_server.faults.end_call_after(50, grpc.StatusCode.UNAVAILABLE, "injected: lost the call")
    batches = [[{"id": i} for i in range(start, start + 10)] for start in range(0, 300, 10)]
    driver.ingest_all(stream, "ingest_records_offset", batches)
    stream.flush()
    stats = stream.stats()
    assert stats.recoveries >= 1
    assert stats.last_error is not None and "injected: lost the call" in stats.last_error
    assert (stats.ingested_records, stats.acknowledged_records) == (300, 300)
    assert stats.sent_bytes > stats.acknowledged_bytes  # the unacknowledged requests went out twice
    stream.close()
    assert sorted(set(ids(zerobus_server.rows(events_table)))) == list(range(300))


def test_sdk_stats_sum_every_stream_and_pool_and_keep_counting_closed_ones(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    first, second = zerobus_table("id BIGINT NOT NULL"), zerobus_table("id BIGINT NOT NULL")
    assert driver.sdk.stats().streams == 0
    stream = open_stream(driver, zerobus_server, first)
    pool = call(
        driver,
        lambda: driver.sdk.create_stream_pool(
            zerobus_server.client_id,
            zerobus_server.client_secret,
            TableProperties(second),
            fast_options(),
            streams=2,
        ),
    )
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(30)])
    for i in range(40):
        call(driver, pool.ingest_record_offset, {"id": i})
    stream.flush()
    call(driver, pool.flush)

    pool_stats = pool.stats()
    assert (pool_stats.streams, pool_stats.open_streams, pool_stats.acknowledged_records) == (2, 2, 40)
    assert pool_stats.acknowledged_bytes == sum(s.stats().acknowledged_bytes for s in pool.streams)
    totals = driver.sdk.stats()
    assert (totals.streams, totals.open_streams) == (3, 3)
    assert (totals.ingested_records, totals.acknowledged_records, totals.queued_records) == (70, 70, 0)
    assert totals.acknowledged_bytes == stream.stats().acknowledged_bytes + pool_stats.acknowledged_bytes
    assert totals.ack_latency_p99_s is not None

    stream.close()
    after_one = driver.sdk.stats()
    assert (after_one.streams, after_one.open_streams, after_one.acknowledged_records) == (3, 2, 70)
    assert after_one.acknowledged_bytes == totals.acknowledged_bytes
    stream.close()  # closing again changes nothing
    assert driver.sdk.stats() == after_one

    call(driver, pool.close)
    closed = driver.sdk.stats()
    assert (closed.streams, closed.open_streams, closed.acknowledged_records) == (3, 0, 70)
    assert (closed.in_flight_records, closed.ack_latency_p50_s) == (0, None)
    assert pool.stats().open_streams == 0


def test_a_failed_stream_reports_its_error_and_its_unacknowledged_records(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    stream = open_stream(driver, zerobus_server, events_table)
    zerobus_server.faults.fail_after(5, grpc.StatusCode.INVALID_ARGUMENT, "injected: refused")
    driver.ingest_all(stream, "ingest_records_offset", [[{"id": i} for i in range(5)]])
    stream.flush()  # the first 5 are acknowledged; the next request is refused
    driver.ingest_all(stream, "ingest_records_offset", [[{"id": 5}, {"id": 6}]])
    with pytest.raises(NonRetriableException, match="injected: refused"):
        stream.flush()
    stats = stream.stats()
    assert stats.state is StreamState.FAILED
    assert stats.last_error is not None and "injected: refused" in stats.last_error
    assert (stats.ingested_records, stats.acknowledged_records) == (7, 5)
    assert stats.queued_records + stats.in_flight_records == len(list(stream.get_unacked_records())) == 2
    with pytest.raises(NonRetriableException, match="injected: refused"):
        stream.close()
    assert driver.sdk.stats().last_error == stats.last_error


def test_log_records_about_a_stream_carry_table_stream_id_and_offsets(
    driver: Driver,
    zerobus_server: LocalZerobusServer,
    events_table: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="zerobus"):
        stream = open_stream(driver, zerobus_server, events_table)
        first_id = stream.stream_id
        zerobus_server.faults.end_call_after(3, grpc.StatusCode.UNAVAILABLE, "injected: lost the call")
        driver.ingest_all(stream, "ingest_records_offset", [[{"id": i}] for i in range(6)])
        stream.flush()
        stream.close()
    engine_records = [r for r in caplog.records if r.name.startswith("zerobus.engine")]
    assert all(isinstance(getattr(r, "zerobus_table", None), str) for r in engine_records)
    about_stream = [r for r in engine_records if r.zerobus_table == events_table]  # type: ignore[attr-defined]
    messages = [r.getMessage() for r in about_stream]
    assert any("opened" in m for m in messages) and any("recovery attempt" in m for m in messages)
    assert any(m.endswith(" closed") for m in messages)
    for record in about_stream:
        assert isinstance(record.zerobus_offset, int)  # type: ignore[attr-defined]
        assert record.zerobus_durable_offset <= record.zerobus_offset  # type: ignore[attr-defined]
    opened = next(r for r in about_stream if "opened" in r.getMessage())
    assert opened.zerobus_stream_id == first_id  # type: ignore[attr-defined]
    closed = next(r for r in about_stream if r.getMessage().endswith(" closed"))
    assert (closed.zerobus_stream_id, closed.zerobus_offset, closed.zerobus_durable_offset) == (  # type: ignore[attr-defined]
        stream.stream_id,
        5,
        5,
    )


def test_the_warning_about_records_lost_with_an_abandoned_stream_carries_its_fields(
    zerobus_server: LocalZerobusServer, events_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    driver = AioDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = open_stream(driver, zerobus_server, events_table)
        zerobus_server.faults.withhold_acks()
        driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(4)])
        with caplog.at_level(logging.WARNING, logger="zerobus"):
            driver.run(driver.sdk.close)  # cancels the stream's tasks: its records can no longer go out
            deadline = time.monotonic() + 20
            while not (lost := [r for r in caplog.records if "may be lost" in r.getMessage()]):
                assert time.monotonic() < deadline, "no warning about the lost records"
                time.sleep(0.01)
        (warning,) = lost
        assert (warning.zerobus_table, warning.zerobus_stream_id) == (events_table, stream.stream_id)  # type: ignore[attr-defined]
        assert (warning.zerobus_offset, warning.zerobus_durable_offset) == (3, -1)  # type: ignore[attr-defined]
        assert stream.stats().queued_records + stream.stats().in_flight_records == 4
    finally:
        zerobus_server.faults.release_acks()
        driver.close()


def test_stats_read_from_another_thread_while_records_flow_stay_consistent(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    """What a metrics exporter does: read stats on its own thread while the stream is busy."""
    stream = open_stream(driver, zerobus_server, events_table, max_inflight_records=500)
    inner = getattr(stream, "inner", stream)  # the asyncio stream itself, read off its loop
    done, watching = threading.Event(), threading.Event()
    seen: list[Any] = []
    problems: list[str] = []

    def watch() -> None:
        while not done.is_set():
            stats = inner.stats()
            totals = driver.sdk.stats()
            if min(stats.queued_records, stats.in_flight_records, totals.queued_records) < 0:
                problems.append(f"negative count in {stats}")
            if seen and stats.acknowledged_records < seen[-1].acknowledged_records:
                problems.append(f"acknowledged went down: {seen[-1]} then {stats}")
            if isinstance(driver, SyncDriver) and stats.ingested_records != (
                stats.queued_records + stats.in_flight_records + stats.acknowledged_records
            ):
                problems.append(f"records unaccounted for in {stats}")
            seen.append(stats)
            watching.set()

    watcher = threading.Thread(target=watch, name="test-stats-reader")
    watcher.start()
    assert watching.wait(30)
    try:
        driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(5000)])
        driver.ingest_all(stream, "ingest_records_offset", [[{"id": 5000 + i} for i in range(50)]] * 20)
        stream.flush()
    finally:
        done.set()
        watcher.join()
    assert not problems, problems[:3]
    final = stream.stats()
    assert (final.ingested_records, final.acknowledged_records, final.queued_records) == (6000, 6000, 0)
    stream.close()
