"""A program that ends with its streams open loses nothing silently (both drivers).

Each test runs a real script in a subprocess against the session's local server: it ingests
and exits without `flush()`/`close()`. Sync: the exit hook flushes and closes the stream, so
every record lands. When delivery cannot finish (acks withheld, a short `flush_timeout_ms`),
or an asyncio loop stops under the stream, a WARNING on stderr names the count and the fix.
An asyncio stream whose tasks are cancelled under it (its SDK closed) fails at once, keeping
its records, instead of leaving `close()` to wait for acknowledgments that cannot come.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from tests.sdk.drivers import AioDriver
from zerobus.errors import ZerobusException
from zerobus.sdk.shared import StreamState, TableProperties

SCRIPT_TIMEOUT_S = 300

SYNC_SCRIPT = """
import json
import sys
from zerobus import StreamConfigurationOptions, TableProperties, ZerobusSdk

endpoint, workspace, client_id, secret, table, total, options = sys.argv[1:]
options = StreamConfigurationOptions(**json.loads(options))
sdk = ZerobusSdk(endpoint, workspace)
stream = sdk.create_stream(
    client_id, secret, TableProperties(table),
    options,
)
for i in range(int(total)):
    stream.ingest_record_nowait({"id": i})
print("ingested", flush=True)
"""

AIO_SCRIPT = """
import asyncio
import json
import sys
from zerobus.sdk.aio import ZerobusSdk
from zerobus.sdk.shared import StreamConfigurationOptions, TableProperties

endpoint, workspace, client_id, secret, table, total, options = sys.argv[1:]
options = StreamConfigurationOptions(**json.loads(options))

async def main():
    sdk = ZerobusSdk(endpoint, workspace)
    stream = await sdk.create_stream(
        client_id, secret, TableProperties(table),
        options,
    )
    for i in range(int(total)):
        stream.ingest_record_nowait({"id": i})
    print("ingested", flush=True)

asyncio.run(main())
"""

# The loop runs in a daemon thread, still running when the main thread ends.
AIO_THREAD_SCRIPT = """
import asyncio
import json
import sys
import threading
from zerobus.sdk.aio import ZerobusSdk
from zerobus.sdk.shared import StreamConfigurationOptions, TableProperties

endpoint, workspace, client_id, secret, table, total, options = sys.argv[1:]
options = StreamConfigurationOptions(**json.loads(options))
loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()

async def ingest():
    sdk = ZerobusSdk(endpoint, workspace)
    stream = await sdk.create_stream(
        client_id, secret, TableProperties(table), options
    )
    for i in range(int(total)):
        await stream.ingest_record_offset({"id": i})
    return stream

stream = asyncio.run_coroutine_threadsafe(ingest(), loop).result()
print("ingested", flush=True)
"""


def _run(tmp_path: Path, script: str, server: Any, table: str, total: int, **options: Any) -> Any:
    """Run `script` to ingest `total` records with these stream options; it never closes the stream."""
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


def test_sync_stream_left_open_is_flushed_at_exit(
    tmp_path: Path, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    total = 300_000
    # The call ends near the end, so the tail waits for a resend (after a backoff) at exit.
    zerobus_server.faults.end_call_after(290_000)
    done = _run(tmp_path, SYNC_SCRIPT, zerobus_server, table, total, recovery_backoff_ms=500)
    assert done.returncode == 0, done.stderr
    assert "ingested" in done.stdout
    assert set(ids(zerobus_server.rows(table))) == set(range(total))  # resends may duplicate
    assert "may be lost" not in done.stderr


def test_sync_stream_that_cannot_deliver_at_exit_warns_with_the_count(
    tmp_path: Path, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    zerobus_server.faults.withhold_acks()
    done = _run(tmp_path, SYNC_SCRIPT, zerobus_server, table, 1234, flush_timeout_ms=300)
    assert done.returncode == 0, done.stderr
    assert "1234 record(s) were not acknowledged" in done.stderr
    assert "flush_timeout_ms=300" in done.stderr
    assert "call stream.close()" in done.stderr


def test_aio_stream_left_open_under_asyncio_run_warns_with_the_count(
    tmp_path: Path, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    # Acks withheld: nothing the script ingested can be durable when asyncio.run() ends.
    zerobus_server.faults.withhold_acks()
    done = _run(tmp_path, AIO_SCRIPT, zerobus_server, table, 777, flush_timeout_ms=300)
    assert done.returncode == 0, done.stderr
    assert "777 record(s) were not acknowledged" in done.stderr
    assert "its tasks were cancelled: its event loop is shutting down" in done.stderr
    assert "call stream.close()" in done.stderr


def test_aio_stream_left_open_on_a_running_loop_is_flushed_at_exit(
    tmp_path: Path, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    total = 50_000
    zerobus_server.faults.end_call_after(45_000)  # the tail waits for a resend when main ends
    done = _run(tmp_path, AIO_THREAD_SCRIPT, zerobus_server, table, total, recovery_backoff_ms=500)
    assert done.returncode == 0, done.stderr
    assert "ingested" in done.stdout
    assert set(ids(zerobus_server.rows(table))) == set(range(total))  # resends may duplicate
    assert "may be lost" not in done.stderr


def test_aio_stream_whose_sdk_closes_under_it_fails_at_once_keeping_its_records(
    zerobus_server: Any, zerobus_table: Any
) -> None:
    """Closing the SDK cancels the stream's tasks: the stream fails (no hang in close()), loudly."""
    table = zerobus_table("id BIGINT NOT NULL")
    driver = AioDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = driver.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table), fast_options()
        )
        zerobus_server.faults.withhold_acks()
        driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(10)])
        driver.run(driver.sdk.close)
        with pytest.raises(ZerobusException, match="tasks were cancelled before close"):
            stream.close()
        assert stream.get_state() is StreamState.FAILED
        assert len(list(stream.get_unacked_records())) == 10
    finally:
        driver.close()
