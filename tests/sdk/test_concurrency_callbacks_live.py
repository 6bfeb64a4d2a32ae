"""Many threads, many tasks, callbacks, custom headers providers and logging, against the local server."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from tests.sdk.test_faults_live import wait_until
from zerobus.protocol import IngestRecordResponse
from zerobus.sdk import aio, sync
from zerobus.sdk.shared import AckCallback, HeadersProvider, OAuthHeadersProvider, TableProperties


def test_eight_threads_ingest_into_one_stream(zerobus_server: Any, events_table: str) -> None:
    sdk = sync.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    stream = sdk.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(max_inflight_records=500),  # small window: threads also block and wake
    )
    offsets: list[list[int]] = [[] for _ in range(8)]

    def ingest(worker: int) -> None:
        for i in range(worker * 1000, (worker + 1) * 1000):
            if i % 3 == 0:
                offsets[worker].append(stream.ingest_record_offset({"id": i}))
            elif i % 3 == 1:
                offsets[worker].append(stream.ingest_record({"id": i}).offset)
            else:
                stream.ingest_record_nowait({"id": i})

    threads = [threading.Thread(target=ingest, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stream.close()
    sdk.close()
    every = [o for worker in offsets for o in worker]
    assert len(set(every)) == len(every)  # no offset handed out twice
    for worker in offsets:
        assert worker == sorted(worker)  # each thread sees its own offsets increase
    assert ids(zerobus_server.rows(events_table)) == list(range(8000))


def test_a_hundred_tasks_ingest_into_one_stream(zerobus_server: Any, events_table: str) -> None:
    async def main() -> list[int]:
        sdk = aio.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
        stream = await sdk.create_stream(
            zerobus_server.client_id,
            zerobus_server.client_secret,
            TableProperties(events_table),
            fast_options(max_inflight_records=300),
        )

        async def task(worker: int) -> list[int]:
            got = []
            for i in range(worker * 50, (worker + 1) * 50):
                if i % 2:
                    got.append(await stream.ingest_record_offset({"id": i}))
                else:
                    ack = await stream.ingest_record({"id": i})
                    got.append(await ack)
            return got

        results = await asyncio.gather(*(task(w) for w in range(100)))
        await stream.close()
        await sdk.close()
        return [o for r in results for o in r]

    offsets = asyncio.run(main())
    assert sorted(offsets) == list(range(5000))
    assert ids(zerobus_server.rows(events_table)) == list(range(5000))


class Recording(AckCallback):
    def __init__(self, raise_every: int = 0) -> None:
        self.acked: list[int] = []
        self.errors: list[tuple[int, str]] = []
        self.raise_every = raise_every
        self.threads: set[str] = set()

    def on_ack(self, offset: int) -> None:
        self.acked.append(offset)
        self.threads.add(threading.current_thread().name)
        if self.raise_every and offset % self.raise_every == 0:
            raise RuntimeError(f"callback bug at {offset}")

    def on_error(self, offset: int, error_message: str) -> None:
        self.errors.append((offset, error_message))


def test_ack_callback_once_per_submission_even_when_it_raises(
    driver: Any, zerobus_server: Any, events_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    callback = Recording(raise_every=7)
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(ack_callback=callback),
    )
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(50)])
    stream.ingest_records_offset([{"id": 50}, {"id": 51}])  # one submission, one callback
    stream.close()  # waits for the callbacks (callback_max_wait_time_ms)
    assert callback.acked == list(range(51))
    assert all(name.startswith("zerobus-callbacks") for name in callback.threads)
    raised = [r for r in caplog.records if "callback" in r.getMessage() and r.levelno >= logging.ERROR]
    assert len(raised) == 1  # logged once, not once per failure
    assert ids(zerobus_server.rows(events_table)) == list(range(52))


def test_ack_callback_hears_about_failures(driver: Any, zerobus_server: Any, events_table: str) -> None:
    import grpc

    callback = Recording()
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(ack_callback=callback),
    )
    zerobus_server.faults.fail_after(2, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044")
    stream.ingest_records_offset([{"id": 1}, {"id": 2}])  # offset 0: accepted
    stream.flush()
    stream.ingest_record_offset({"id": 3})  # offset 1: rejected
    with pytest.raises(Exception, match="4044"):
        stream.flush()
    with pytest.raises(Exception, match="4044"):
        stream.close()
    assert callback.acked == [0]
    assert [offset for offset, _ in callback.errors] == [1]
    assert "4044" in callback.errors[0][1]


def test_old_style_callable_receives_ack_responses(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    responses: list[Any] = []
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(ack_callback=responses.append),
    )
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(10)])
    stream.close()
    assert responses and all(isinstance(r, IngestRecordResponse) for r in responses)
    assert responses[-1].durability_ack_up_to_offset == 9


def test_callbacks_run_outside_the_stream_lock(zerobus_server: Any, events_table: str) -> None:
    """A callback may call back into the stream (it would deadlock if run under the lock)."""
    sdk = sync.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    holder: dict[str, Any] = {}
    seen: list[int] = []

    class Reentrant(AckCallback):
        def on_ack(self, offset: int) -> None:
            seen.append(len(list(holder["stream"].get_unacked_records())))

    stream = sdk.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(ack_callback=Reentrant()),
    )
    holder["stream"] = stream
    ack = stream.ingest_record({"id": 1})
    done: list[int] = []
    ack.add_done_callback(done.append)
    stream.flush()
    wait_until(lambda: bool(seen) and bool(done))
    stream.close()
    assert done == [0]
    sdk.close()


class CountingProvider(HeadersProvider):
    """A custom provider wrapping OAuth: counts how often it is asked (once per call attempt)."""

    def __init__(self, inner: OAuthHeadersProvider) -> None:
        self.inner = inner
        self.calls = 0

    def get_headers(self) -> list[tuple[str, str]]:
        self.calls += 1
        return [*self.inner.get_headers(), ("x-custom", "yes")]


def test_custom_headers_provider_is_asked_on_every_attempt(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    from zerobus.server.config import WORKSPACE_ID

    credentials = zerobus_server.client_id, zerobus_server.client_secret
    provider = CountingProvider(
        OAuthHeadersProvider(WORKSPACE_ID, zerobus_server.workspace_url, events_table, *credentials)
    )
    stream = driver.create_stream_with_headers_provider(
        provider, TableProperties(events_table), fast_options()
    )
    assert provider.calls == 2  # the UC schema lookup borrowed its token, then the call itself
    zerobus_server.faults.end_call_after(0, times=1)
    stream.ingest_record_offset({"id": 1})
    stream.flush()
    assert provider.calls == 3  # a fresh token for the recovery
    stream.close()
    assert 1 in ids(zerobus_server.rows(events_table))


def test_logging_names_creation_and_recovery_not_records(
    driver: Any, zerobus_server: Any, events_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="zerobus")
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    zerobus_server.faults.end_call_after(10, times=1)
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(200)])
    stream.close()
    ours = [
        r for r in caplog.records if r.name.startswith("zerobus.") and not r.name.startswith("zerobus.server")
    ]
    messages = [r.getMessage() for r in ours]
    assert any("opened for table" in m for m in messages)
    recovery = [r for r in ours if r.levelno == logging.WARNING and "recovery attempt 1" in r.getMessage()]
    assert recovery and "UNAVAILABLE" in recovery[0].getMessage()
    assert len([r for r in ours if r.levelno > logging.DEBUG]) < 10  # nothing per record
    assert Counter(ids(zerobus_server.rows(events_table))).keys() == set(range(200))
