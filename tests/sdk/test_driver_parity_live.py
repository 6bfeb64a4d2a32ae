"""The sync and asyncio drivers do the same thing for the same call: window, encoding, step names."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from tests.sdk.drivers import AioDriver, SyncDriver
from tests.sdk.test_pool_live import call
from zerobus.encoders import RecordEncoder
from zerobus.sdk import aio, sync
from zerobus.sdk.aio import pool as aio_pool
from zerobus.sdk.shared import TableProperties, stream_plan
from zerobus.sdk.sync import pool as sync_pool
from zerobus.server import LocalZerobusServer

Driver = SyncDriver | AioDriver
# A bound on a call that must return at once: reaching it means the call blocked.
HANG_GUARD_S = 30.0


def _open(driver: Driver, server: LocalZerobusServer, table: str, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table), fast_options(**options)
    )


@pytest.fixture
def encoded_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The `id` of every record the streams opened in this test encode, once per encoder call."""
    seen: list[int] = []
    choose = stream_plan.choose_encoder

    def counting_encoder(*args: Any, **kwargs: Any) -> RecordEncoder:
        encoder = choose(*args, **kwargs)
        encode = encoder.encode

        def count_and_encode(record: Any) -> bytes | str:
            seen.append(record["id"])
            return encode(record)

        encoder.encode = count_and_encode
        encoder.direct_class = encoder.direct_encode = None  # every record through `encode`
        return encoder

    monkeypatch.setattr(stream_plan, "choose_encoder", counting_encoder)
    yield seen


def test_a_full_window_does_not_encode_a_record_twice(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str, encoded_ids: list[int]
) -> None:
    # A window of one record: every record after the first finds it full (nothing awaits in
    # between in asyncio) and takes the general path, which waits for the ack.
    stream = _open(driver, zerobus_server, events_table, max_inflight_records=1)
    offsets = driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(6)])
    stream.flush()
    stream.close()
    assert offsets == list(range(6))
    assert encoded_ids == list(range(6))
    assert sorted(ids(zerobus_server.rows(events_table))) == list(range(6))


@pytest.mark.parametrize("key", [None, "id"], ids=["unkeyed", "keyed"])
def test_a_pool_does_not_encode_a_record_twice_either(
    driver: Driver,
    zerobus_server: LocalZerobusServer,
    events_table: str,
    encoded_ids: list[int],
    key: str | None,
) -> None:
    async def open_pool() -> Any:
        return await driver.sdk.create_stream_pool(*pool_arguments, streams=1, key=key)

    pool_arguments = (
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(max_inflight_records=1),
    )
    records = [{"id": i} for i in range(6)]
    if isinstance(driver, AioDriver):

        async def ingest() -> list[tuple[int, int]]:
            pool = await open_pool()
            offsets = [await pool.ingest_record_offset(record) for record in records]  # no await between
            await pool.flush()
            await pool.close()
            return offsets

        offsets = driver.run(ingest)
    else:
        pool = driver.sdk.create_stream_pool(*pool_arguments, streams=1, key=key)
        offsets = [pool.ingest_record_offset(record) for record in records]
        pool.flush()
        pool.close()
    assert offsets == [(0, i) for i in range(6)]
    assert encoded_ids == list(range(6))
    assert sorted(ids(zerobus_server.rows(events_table))) == list(range(6))


@pytest.mark.parametrize("api", ["ingest_record_nowait", "ingest_records_nowait"])
def test_nowait_never_waits_for_a_full_window(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str, api: str
) -> None:
    """`*_nowait` queues at once, past `max_inflight_records`; flush and close still wait for it."""
    stream = _open(driver, zerobus_server, events_table, max_inflight_records=2)
    items: list[Any] = [{"id": i} for i in range(8)]
    if api == "ingest_records_nowait":
        items = [items[i : i + 2] for i in range(0, 8, 2)]
    zerobus_server.faults.withhold_acks()
    try:
        ingesting = threading.Thread(target=driver.ingest_all, args=(stream, api, items), daemon=True)
        ingesting.start()
        ingesting.join(HANG_GUARD_S)
        assert not ingesting.is_alive(), f"{api} blocked on a full in-flight window"
        stats = stream.stats()
        assert stats.ingested_records == 8 and stats.acknowledged_records == 0
    finally:
        zerobus_server.faults.release_acks()
    stream.flush()
    stream.close()
    assert sorted(ids(zerobus_server.rows(events_table))) == list(range(8))


@pytest.mark.parametrize("api", ["ingest_record_nowait", "ingest_records_nowait"])
def test_a_pools_nowait_never_waits_for_a_full_window(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str, api: str
) -> None:
    pool = call(
        driver,
        lambda: driver.sdk.create_stream_pool(
            zerobus_server.client_id,
            zerobus_server.client_secret,
            TableProperties(events_table),
            fast_options(max_inflight_records=2),
            streams=2,
        ),
    )
    items: list[Any] = [{"id": i} for i in range(12)]
    if api == "ingest_records_nowait":
        items = [items[i : i + 3] for i in range(0, 12, 3)]
    zerobus_server.faults.withhold_acks()
    try:
        method = getattr(pool, api)
        ingesting = threading.Thread(
            target=lambda: [call(driver, method, item) for item in items], daemon=True
        )
        ingesting.start()
        ingesting.join(HANG_GUARD_S)
        assert not ingesting.is_alive(), f"the pool's {api} blocked on full in-flight windows"
        assert call(driver, pool.stats).ingested_records == 12
    finally:
        zerobus_server.faults.release_acks()
    call(driver, pool.flush)
    call(driver, pool.close)
    assert sorted(ids(zerobus_server.rows(events_table))) == list(range(12))


# --- the same names for the same jobs ---------------------------------------------------------------

# The private methods each driver implements for the shared sequences and its own I/O.
DRIVER_JOBS = [
    "_drive",
    "_carry_out",
    "_run_call",
    "_sleep",
    "_wait",
    "_shutdown",
    "_send_requests",
    "_wait_for_space",
    "_queue_payload",
    "_watch",
    "_apply",
    "_supervise",
]


@pytest.mark.parametrize("name", DRIVER_JOBS)
def test_both_drivers_name_each_job_alike(name: str) -> None:
    sync_method: Callable[..., object] = getattr(sync.ZerobusStream, name)
    aio_method: Callable[..., object] = getattr(aio.ZerobusStream, name)
    assert "ZerobusStream" in sync_method.__qualname__ and "ZerobusStream" in aio_method.__qualname__
    sync_parameters = list(inspect.signature(sync_method).parameters)
    aio_parameters = list(inspect.signature(aio_method).parameters)
    if name != "_send_requests":  # grpc.aio writes to the call object; grpc pulls an iterator
        assert sync_parameters == aio_parameters


@pytest.mark.parametrize("name", ["ingest_record_nowait", "ingest_records_nowait"])
def test_nowait_is_one_shared_method(name: str) -> None:
    assert getattr(sync.ZerobusStream, name) is getattr(aio.ZerobusStream, name)
    assert not inspect.iscoroutinefunction(getattr(aio.ZerobusStream, name))


# What neither blocks nor awaits is written once: each driver only says how it wakes a thread or task.
SHARED_JOBS = ["_wake_sender", "_poke_timer", "_on_response", "_settle_with", "_close_on_exit_failed"]


@pytest.mark.parametrize("name", SHARED_JOBS)
def test_the_jobs_that_never_wait_are_written_once(name: str) -> None:
    assert getattr(sync.ZerobusStream, name) is getattr(aio.ZerobusStream, name)


@pytest.mark.parametrize(
    ("sync_class", "aio_class", "names"),
    [
        (
            sync.ZerobusArrowStream,
            aio.ZerobusArrowStream,
            ["is_closed", "table_name", "stats", "_send_batch"],
        ),
        (
            sync_pool.StreamPool,
            aio_pool.StreamPool,
            ["streams", "stream_count", "get_states", "stats", "ingest_records_nowait"],
        ),
    ],
    ids=["arrow-stream", "pool"],
)
def test_the_twins_share_what_never_waits(sync_class: type, aio_class: type, names: list[str]) -> None:
    for name in names:
        assert inspect.getattr_static(sync_class, name) is inspect.getattr_static(aio_class, name), name
