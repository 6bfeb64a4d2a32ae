"""Stream pools against the local server, both drivers: order per key, failures of one stream, growth."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver, SyncDriver
from tests.support.waiting import wait_until
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.sdk.shared import OAuthHeadersProvider, RecordType, StreamState, TableProperties
from zerobus.sdk.shared.pool_core import PoolGrowth
from zerobus.server import LocalZerobusServer
from zerobus.server.config import WORKSPACE_ID

Driver = SyncDriver | AioDriver


def call(driver: Driver, function: Callable[..., Any], *args: Any) -> Any:
    """Run a pool method the way its driver runs: in the event loop (awaited) for asyncio."""
    if isinstance(driver, AioDriver):
        return driver.run(function, *args)
    return function(*args)


def open_pool(driver: Driver, server: LocalZerobusServer, table: str, **kwargs: Any) -> Any:
    options = kwargs.pop("options", fast_options())
    return call(
        driver,
        lambda: driver.sdk.create_stream_pool(
            server.client_id, server.client_secret, TableProperties(table), options, **kwargs
        ),
    )


def test_a_keyed_pool_keeps_each_keys_order_and_lands_everything(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    pool = open_pool(driver, zerobus_server, events_table, streams=3, key="name")
    offsets = [call(driver, pool.ingest_record_offset, {"id": i, "name": f"k{i % 7}"}) for i in range(600)]
    batch = call(
        driver, pool.ingest_records_offset, [{"id": 600 + i, "name": f"k{i % 7}"} for i in range(70)]
    )
    call(driver, pool.ingest_record_nowait, {"id": 670, "name": "k0"})
    call(driver, pool.ingest_records_nowait, [{"id": 671 + i, "name": f"k{i}"} for i in range(10)])
    assert {o[0] for o in offsets} == {0, 1, 2}
    assert len(batch) == len({o[0] for o in batch}) > 1  # split by stream, one submission each
    call(driver, pool.wait_for_offset, offsets[-1], 30)
    call(driver, pool.flush)
    call(driver, pool.close)
    rows = zerobus_server.rows(events_table)
    assert sorted(r["id"] for r in rows) == list(range(681))
    by_key: dict[str, list[int]] = {}
    for row in rows:
        by_key.setdefault(row["name"], []).append(row["id"])
    assert all(ids == sorted(ids) for ids in by_key.values())
    assert list(call(driver, pool.get_unacked_records)) == []


def test_an_unkeyed_pool_spreads_records_over_its_streams(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    pool = open_pool(
        driver, zerobus_server, events_table, streams=3, options=fast_options(max_inflight_records=64)
    )
    zerobus_server.faults.withhold_acks()  # nothing is acknowledged: the streams' windows fill
    offsets = [call(driver, pool.ingest_record_offset, {"id": i, "name": "x"}) for i in range(150)]
    # Each stream takes records until half its window (32) is unacknowledged, then the least
    # loaded takes over; once every stream is past half, the chosen one fills its window (64).
    assert [sum(1 for o in offsets if o[0] == s) for s in range(3)] == [64, 54, 32]
    zerobus_server.faults.release_acks()
    offsets += [call(driver, pool.ingest_record_offset, {"id": 150 + i, "name": "x"}) for i in range(850)]
    call(driver, pool.close)
    assert sorted(r["id"] for r in zerobus_server.rows(events_table)) == list(range(1000))


def test_an_unkeyed_pool_whose_stream_keeps_up_sends_everything_on_it(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    pool = open_pool(
        driver, zerobus_server, events_table, streams=3, options=fast_options(max_inflight_records=2000)
    )
    offsets = [call(driver, pool.ingest_record_offset, {"id": i, "name": "x"}) for i in range(999)]
    assert {o[0] for o in offsets} == {0}  # never half its window unacknowledged: no other stream
    call(driver, pool.close)
    assert sorted(r["id"] for r in zerobus_server.rows(events_table)) == list(range(999))


def test_pool_arguments_are_checked_before_any_stream_opens(
    driver: Driver, zerobus_server: LocalZerobusServer
) -> None:
    before = zerobus_server.stats.stream_calls
    for kwargs, message in [
        ({"streams": 0}, "streams must be"),
        ({"streams": "auto", "key": "name"}, "cannot be combined with key="),
        ({"streams": 2, "key": 3}, "key must be"),
    ]:
        with pytest.raises(ConfigurationError, match=message):
            open_pool(driver, zerobus_server, "main.default.nothing_here", **kwargs)
    assert zerobus_server.stats.stream_calls == before


def test_the_headers_provider_variant(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    provider = OAuthHeadersProvider(
        WORKSPACE_ID,
        zerobus_server.workspace_url,
        events_table,
        zerobus_server.client_id,
        zerobus_server.client_secret,
    )
    pool = call(
        driver,
        lambda: driver.sdk.create_stream_pool_with_headers_provider(
            provider, TableProperties(events_table), streams=2, key=lambda r: r["id"] % 2
        ),
    )
    offsets = [call(driver, pool.ingest_record_offset, {"id": i}) for i in range(10)]
    assert all(isinstance(o, tuple) and len(o) == 2 for o in offsets)
    call(driver, pool.close)
    assert len(zerobus_server.rows(events_table)) == 10
    with pytest.raises(ValueError, match="stream must be an index"):
        call(driver, pool.wait_for_offset, (5, 0))


def _ids(records: Any) -> list[int]:
    return [json.loads(record)["id"] for record in records]


def test_one_stream_failing_for_good_does_not_stop_the_others_and_nothing_is_lost(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    # Without recovery, the injected error fails its stream for good whatever status the client
    # sees (grpc.aio may report a server status racing a write as INTERNAL: grpc/grpc#36066).
    options = fast_options(record_type=RecordType.JSON, recovery=False)
    pool = open_pool(driver, zerobus_server, events_table, streams=2, options=options)
    zerobus_server.faults.fail_after(100, grpc.StatusCode.INVALID_ARGUMENT, "injected: bad request", times=1)
    sent = 0
    deadline = time.monotonic() + 30
    # Ingest until one stream has met the fault: its call ends at its first request after 100 records.
    while StreamState.FAILED not in pool.get_states() and time.monotonic() < deadline:
        call(driver, pool.ingest_record_offset, {"id": sent, "name": "a"})
        sent += 1
    assert StreamState.FAILED in pool.get_states(), (
        sent,
        pool.get_states(),
        zerobus_server.faults.calls_ended,
    )
    failed = pool.get_states().index(StreamState.FAILED)
    later = [call(driver, pool.ingest_record_offset, {"id": sent + i, "name": "b"}) for i in range(300)]
    assert {o[0] for o in later} == {1 - failed}  # the healthy stream takes every new record
    with pytest.raises(ZerobusException):
        call(driver, pool.flush)
    with pytest.raises(ZerobusException):
        call(driver, pool.close)
    assert pool.get_states()[1 - failed] is StreamState.CLOSED
    unacked = _ids(call(driver, pool.get_unacked_records))
    landed = [r["id"] for r in zerobus_server.rows(events_table)]
    assert len(landed) == len(set(landed))
    assert set(landed) | set(unacked) == set(range(sent + 300))
    assert set(unacked) <= set(range(sent))


def test_one_stream_recovering_does_not_block_the_others(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    pool = open_pool(driver, zerobus_server, events_table, streams=2, key=lambda r: r["id"] % 2)
    zerobus_server.faults.end_call_after(20, grpc.StatusCode.UNAVAILABLE, times=1)
    for i in range(400):
        call(driver, pool.ingest_record_offset, {"id": i, "name": "r"})
    call(driver, pool.close)
    assert set(r["id"] for r in zerobus_server.rows(events_table)) == set(range(400))
    assert zerobus_server.faults.calls_ended >= 1


def test_after_a_terminal_failure_every_unacked_record_of_every_stream_is_returned(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    # Acks are withheld for a while: no stream may give up on the server meanwhile.
    options = fast_options(record_type=RecordType.JSON, server_lack_of_ack_timeout_ms=120_000, recovery=False)
    pool = open_pool(driver, zerobus_server, events_table, streams=2, key="name", options=options)
    zerobus_server.faults.withhold_acks()
    stored_before = zerobus_server.stats.records_stored
    offsets = [call(driver, pool.ingest_record_offset, {"id": i, "name": f"k{i % 10}"}) for i in range(100)]
    assert {o[0] for o in offsets} == {0, 1}
    assert wait_until(lambda: zerobus_server.stats.records_stored >= stored_before + 100)
    zerobus_server.faults.fail_after(0, grpc.StatusCode.INVALID_ARGUMENT, "injected: refused", times=1)
    trigger = call(driver, pool.ingest_record_offset, {"id": 100, "name": "k0"})
    with pytest.raises(ZerobusException):  # woken by the stream's failure
        call(driver, pool.wait_for_offset, trigger, 30)
    assert pool.get_states()[trigger[0]] is StreamState.FAILED
    assert pool.get_states()[1 - trigger[0]] is not StreamState.FAILED
    assert sorted(_ids(call(driver, pool.get_unacked_records))) == list(range(101))
    batches = list(call(driver, pool.get_unacked_batches))
    assert sorted(i for batch in batches for i in _ids(batch)) == list(range(101))

    zerobus_server.faults.release_acks()
    with pytest.raises(ZerobusException):
        call(driver, pool.close)
    unacked = _ids(call(driver, pool.get_unacked_records))
    landed = {r["id"] for r in zerobus_server.rows(events_table)}
    # The failed stream's records stay retrievable (some were stored before it failed: resending
    # them is at-least-once delivery); the healthy stream's records all landed.
    assert set(unacked) == {i for i, o in enumerate([*offsets, trigger]) if o[0] == trigger[0]}
    assert landed | set(unacked) == set(range(101))


@pytest.mark.parametrize("driver_class", [SyncDriver, AioDriver], ids=["sync", "aio"])
def test_an_auto_pool_grows_while_its_streams_sit_at_the_limit(
    driver_class: type[Driver], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = "main.default.grow"
    with LocalZerobusServer(
        data_dir=tmp_path,
        stream_rate_limit=400,
        materialize_delay_s=0.1,
        tables={table: "id BIGINT NOT NULL"},
    ) as server:
        driver = driver_class(server.grpc_endpoint, server.workspace_url)
        try:
            growth = PoolGrowth(
                max_streams=3, stream_records_per_s=400, at_limit=0.5, window_s=0.5, windows=1
            )
            options = fast_options(max_inflight_records=40)
            with caplog.at_level(logging.INFO, logger="zerobus.sdk.shared.pool_core"):
                pool = open_pool(driver, server, table, streams="auto", growth=growth, options=options)
                assert pool.stream_count == 1
                sent = 0
                deadline = time.monotonic() + 60
                while pool.stream_count < 2 and time.monotonic() < deadline:
                    call(driver, pool.ingest_record_offset, {"id": sent})
                    sent += 1
                assert pool.stream_count >= 2, "the pool never grew"
                call(driver, pool.close)
            assert "opening stream 2 of at most 3" in caplog.text
            assert sorted(r["id"] for r in server.rows(table)) == list(range(sent))
            assert server.stats.acks_paced > 0
        finally:
            driver.close()


def test_a_sync_pool_takes_records_from_many_threads(
    zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        pool = open_pool(driver, zerobus_server, events_table, streams=3, key="name")

        def produce(worker: int) -> None:
            for i in range(500):
                pool.ingest_record_offset({"id": worker * 1000 + i, "name": f"w{worker}"})

        threads = [threading.Thread(target=produce, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pool.close()
        by_worker: dict[str, list[int]] = {}
        for row in zerobus_server.rows(events_table):
            by_worker.setdefault(row["name"], []).append(row["id"])
        assert {name: len(ids) for name, ids in by_worker.items()} == {f"w{w}": 500 for w in range(4)}
        assert all(ids == sorted(ids) for ids in by_worker.values())  # one thread per key: its order holds
    finally:
        driver.close()
