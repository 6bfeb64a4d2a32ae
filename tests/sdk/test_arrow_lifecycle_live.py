"""Arrow Flight streams keep the record streams' promises: stats, closing with the SDK, at exit.

Against the session's local server (Flight on loopback), rows read back from Delta:
`stream.stats()` and `sdk.stats()` count Arrow batches and rows; log records carry the
stream's fields; `sdk.close()` flushes and closes the SDK's Arrow streams; a program that exits
without closing one gets it flushed at exit, or a WARNING naming what was lost; a failed
creation prints nothing from pyarrow's C++ layer; unacknowledged batches survive a failure
and a `close()` that raised, on both drivers.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.drivers import AioDriver, AioStream, SyncDriver
from tests.sdk.test_arrow_streams_live import DDL, fast, open_arrow, rows_of, stored_ids
from zerobus.engine import StreamState, StreamTimeoutError
from zerobus.errors import ZerobusException
from zerobus.server import LocalZerobusServer

SCRIPT_TIMEOUT_S = 180


def sdk_stats(driver: SyncDriver | AioDriver) -> Any:
    return driver.sdk.stats()


def test_stream_and_sdk_stats_count_batches_rows_bytes_and_latency(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    before = stream.stats()
    assert (before.table_name, before.state, before.ingested_batches) == (table, StreamState.OPENED, 0)
    assert before.ack_latency_p50_s is None
    batches = [rows_of(range(start, start + 5)) for start in range(0, 15, 5)]
    for batch in batches:
        stream.ingest_batch(batch)
    stream.flush()
    stats = stream.stats()
    nbytes = sum(batch.nbytes for batch in batches)
    assert (stats.ingested_batches, stats.acknowledged_batches, stats.in_flight_batches) == (3, 3, 0)
    assert (stats.ingested_records, stats.acknowledged_records, stats.in_flight_records) == (15, 15, 0)
    assert (stats.sent_requests, stats.sent_bytes, stats.acknowledged_bytes) == (3, nbytes, nbytes)
    assert stats.recoveries == 0 and stats.last_error is None
    assert stats.ack_latency_p50_s is not None and stats.ack_latency_p99_s is not None
    assert 0 <= stats.ack_latency_p50_s <= stats.ack_latency_p99_s
    live = sdk_stats(driver)
    assert (live.streams, live.open_streams, live.acknowledged_records) == (1, 1, 15)
    assert live.ack_latency_p50_s is not None
    stream.close()
    assert stream.stats().state is StreamState.CLOSED
    closed = sdk_stats(driver)  # the totals outlive the stream
    assert (closed.streams, closed.open_streams, closed.acknowledged_records) == (1, 0, 15)
    assert (closed.sent_bytes, closed.acknowledged_bytes) == (nbytes, nbytes)
    assert stored_ids(zerobus_server, table, 15) == list(range(15))


def test_a_recovery_is_counted_with_its_error_and_logged_with_the_stream_fields(
    driver: SyncDriver | AioDriver,
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    zerobus_server.faults.end_call_after(records=30, code=None)  # like a lost connection
    caplog.set_level(logging.INFO, logger="zerobus.sdk.shared.arrow_session")
    for start in range(0, 100, 10):
        stream.ingest_batch(rows_of(range(start, start + 10)))
    stream.flush()
    stats = stream.stats()
    assert stats.recoveries == 1 and stats.last_error is not None
    assert stats.acknowledged_batches == 10 and stats.acknowledged_records == 100
    assert stats.sent_requests > 10  # the unacknowledged batches went out again
    assert sdk_stats(driver).recoveries == 1
    recovering = [r for r in caplog.records if "recovering after" in r.getMessage()]
    assert recovering and recovering[0].zerobus_table == table  # type: ignore[attr-defined]
    assert recovering[0].zerobus_offset >= recovering[0].zerobus_durable_offset  # type: ignore[attr-defined]
    stream.close()
    assert set(stored_ids(zerobus_server, table, 100)) == set(range(100))


def test_sdk_close_flushes_and_closes_its_arrow_streams(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    stream = open_arrow(driver, zerobus_server, table, None, fast())
    zerobus_server.faults.delay_acks(0.3)  # the batches are unacknowledged when the SDK closes
    for start in range(0, 40, 10):
        stream.ingest_batch(rows_of(range(start, start + 10)))
    assert stream.stats().in_flight_batches > 0
    driver.run(driver.sdk.close) if isinstance(driver, AioDriver) else driver.sdk.close()
    assert stream.is_closed and stream.get_unacked_batches() == []
    assert sdk_stats(driver).acknowledged_records == 40
    assert stored_ids(zerobus_server, table, 40) == list(range(40))


def test_unacknowledged_batches_survive_a_close_that_raised(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    # A failed stream owes the server nothing: its close must not wait connection_timeout_ms for
    # the server (which withholds acks, so never ends the call) before it raises.
    options = fast(flush_timeout_ms=300, connection_timeout_ms=3_600_000)
    stream = open_arrow(driver, zerobus_server, table, None, options)
    stream.ingest_batch(rows_of(range(0, 2)))
    stream.flush()
    zerobus_server.faults.withhold_acks()
    kept = [rows_of(range(2, 4)), rows_of(range(4, 6))]
    for batch in kept:
        stream.ingest_batch(batch)
    raised: list[BaseException] = []
    closing = threading.Thread(target=lambda: _capture(stream.close, raised), daemon=True)
    closing.start()
    closing.join(120)  # a hang guard far below connection_timeout_ms, not a speed measure
    assert not closing.is_alive(), "close() of a failed stream waited for the server to end the call"
    assert len(raised) == 1 and isinstance(raised[0], StreamTimeoutError) and "2 batch" in str(raised[0])
    assert stream.is_closed
    assert [b.to_pylist() for b in stream.get_unacked_batches()] == [b.to_pylist() for b in kept]
    stats = stream.stats()
    assert (stats.state, stats.queued_batches, stats.queued_records) == (StreamState.FAILED, 2, 4)
    assert stats.last_error is not None and "timed out" in stats.last_error
    with pytest.raises(StreamTimeoutError):
        stream.close()  # the same error again; the batches are still there
    assert len(stream.get_unacked_batches()) == 2
    zerobus_server.faults.release_acks()
    if isinstance(driver, AioDriver):
        inner = stream.inner if isinstance(stream, AioStream) else stream
        again = AioStream(driver, driver.run(lambda: driver.sdk.recreate_arrow_stream(inner)))
    else:
        again = driver.sdk.recreate_arrow_stream(stream)
    again.close()
    assert stored_ids(zerobus_server, table, 6) == list(range(6))


def _capture(call: Callable[[], object], raised: list[BaseException]) -> None:
    try:
        call()
    except BaseException as error:  # handed to the test's thread
        raised.append(error)


SYNC_SCRIPT = """
import json, sys
import pyarrow as pa
from zerobus import ZerobusSdk
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions

endpoint, workspace, client_id, secret, table, total, options = sys.argv[1:]
sdk = ZerobusSdk(endpoint, workspace)
stream = sdk.create_arrow_stream(
    table, None, client_id, secret, ArrowStreamConfigurationOptions(**json.loads(options))
)
for start in range(0, int(total), 10):
    stream.ingest_batch(pa.table({"id": list(range(start, start + 10)), "name": ["x"] * 10}))
print("ingested", stream.stats().in_flight_batches, flush=True)
"""

AIO_SCRIPT = """
import asyncio, json, sys
import pyarrow as pa
from zerobus.sdk.aio import ZerobusSdk
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions

endpoint, workspace, client_id, secret, table, total, options = sys.argv[1:]

async def main():
    sdk = ZerobusSdk(endpoint, workspace)
    stream = await sdk.create_arrow_stream(
        table, None, client_id, secret, ArrowStreamConfigurationOptions(**json.loads(options))
    )
    for start in range(0, int(total), 10):
        await stream.ingest_batch(pa.table({"id": list(range(start, start + 10)), "name": ["x"] * 10}))
    print("ingested", stream.stats().in_flight_batches, flush=True)
    return stream

kept = asyncio.run(main())  # the loop is gone at exit; the stream is still open
"""


def _run(
    tmp_path: Path, script: str, server: LocalZerobusServer, table: str, total: int, **options: Any
) -> Any:
    path = tmp_path / "forgets_to_close.py"
    path.write_text(textwrap.dedent(script))
    args = [server.grpc_endpoint, server.workspace_url, server.client_id, server.client_secret, table]
    return subprocess.run(
        [sys.executable, str(path), *args, str(total), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize("script", [SYNC_SCRIPT, AIO_SCRIPT], ids=["sync", "aio"])
def test_an_arrow_stream_left_open_is_flushed_at_exit(
    script: str, tmp_path: Path, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    zerobus_server.faults.delay_acks(0.5)  # batches are still unacknowledged when the script ends
    done = _run(tmp_path, script, zerobus_server, table, 200)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ingested") and done.stdout.split()[1] != "0", done.stdout
    assert stored_ids(zerobus_server, table, 200) == list(range(200))
    assert "may be lost" not in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("script", [SYNC_SCRIPT, AIO_SCRIPT], ids=["sync", "aio"])
def test_an_arrow_stream_that_cannot_deliver_at_exit_warns_with_the_count(
    script: str, tmp_path: Path, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    zerobus_server.faults.withhold_acks()
    done = _run(tmp_path, script, zerobus_server, table, 70, flush_timeout_ms=300)
    assert done.returncode == 0, done.stderr
    assert f"stream to {table} was never closed: 7 batch(es) were not acknowledged" in done.stderr
    assert "flush_timeout_ms=300" in done.stderr and "call stream.close()" in done.stderr


FAILING_CREATIONS = """
import sys
import grpc
import pyarrow as pa
from zerobus import ZerobusSdk
from zerobus.errors import ZerobusException
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions

endpoint, workspace, client_id, secret, table, closed_endpoint = sys.argv[1:]

class WrongToken:
    def get_headers(self):
        return [("authorization", "Bearer not-a-token")]

good = pa.schema([("id", pa.int64(), False), ("name", pa.string())])
quick = ArrowStreamConfigurationOptions(connection_timeout_ms=2000)
attempts = [
    lambda sdk: sdk.create_arrow_stream(table + "_missing", good, client_id, secret),
    lambda sdk: sdk.create_arrow_stream(table, pa.schema([("other", pa.string())]), client_id, secret),
    lambda sdk: sdk.create_arrow_stream_with_headers_provider(table, good, WrongToken()),
    lambda sdk: ZerobusSdk(closed_endpoint, workspace).create_arrow_stream(table, good, client_id, secret, quick),
]
for attempt in attempts:
    sdk = ZerobusSdk(endpoint, workspace)
    try:
        attempt(sdk)
    except ZerobusException as error:
        print("refused:", str(error).splitlines()[0][:60], flush=True)
    else:
        sys.exit("a creation that should fail succeeded")
    sdk.close()
    del sdk
import gc
gc.collect()
print("done", flush=True)
"""


def test_failed_creations_print_nothing_from_pyarrow(
    tmp_path: Path, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    path = tmp_path / "failing_creations.py"
    path.write_text(textwrap.dedent(FAILING_CREATIONS))
    args = [zerobus_server.grpc_endpoint, zerobus_server.workspace_url, zerobus_server.client_id]
    args += [zerobus_server.client_secret, table, f"http://127.0.0.1:{closed_port}"]
    done = subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused:") == 4 and done.stdout.rstrip().endswith("done"), done.stdout
    assert "Close() failed" not in done.stderr, done.stderr
    assert "Failed to create stream" not in done.stderr  # raised to the caller, not printed


def test_arrow_streams_are_counted_per_sdk_object(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)
    first = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    second = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = open_arrow(first, zerobus_server, table, None, fast())
        stream.ingest_batch(rows_of(range(3)))
        stream.close()
        assert first.sdk.stats().acknowledged_records == 3
        assert second.sdk.stats().streams == 0
    finally:
        first.close()
        second.close()
    with pytest.raises(ZerobusException):
        stream.ingest_batch(rows_of(range(3, 4)))


def test_arrow_streams_are_observed_by_opentelemetry_per_table(
    driver: SyncDriver | AioDriver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    metrics_sdk = pytest.importorskip("opentelemetry.sdk.metrics")
    export = pytest.importorskip("opentelemetry.sdk.metrics.export")
    from tests.sdk.test_telemetry_live import collect
    from zerobus.telemetry import enable_otel

    reader = export.InMemoryMetricReader()
    provider = metrics_sdk.MeterProvider(metric_readers=[reader])
    handle = enable_otel(provider)
    try:
        table = zerobus_table(DDL)
        stream = open_arrow(driver, zerobus_server, table, None, fast())
        stream.ingest_batch(rows_of(range(0, 6)))
        stream.ingest_batch(rows_of(range(6, 10)))
        stream.flush()
        values = collect(reader, table)
        assert values["zerobus.stream.records.acknowledged"] == 10
        assert values["zerobus.stream.requests.sent"] == 2
        assert values["zerobus.streams.open"] == 1
        stream.close()
        assert collect(reader, table)["zerobus.stream.records.acknowledged"] == 10  # kept once closed
    finally:
        handle.disable()
        provider.shutdown()
