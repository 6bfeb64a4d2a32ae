"""The pytest plugin's asyncio fixtures, used by real async tests (pytest-asyncio), by a plain
test running its own ``asyncio.run``, and in a pytest run without any asyncio plugin."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from zerobus.engine.state import StreamState
from zerobus.pytest_async_fixtures import AsyncOpening
from zerobus.sdk.aio import TableProperties, ZerobusSdk, ZerobusStream
from zerobus.server import LocalZerobusServer

StreamFactory = Callable[..., AsyncOpening[tuple[str, ZerobusStream]]]
SdkFactory = Callable[[], AsyncOpening[ZerobusSdk]]

# The stream the first test leaves open, checked by the test after it (file order).
LEFT_OPEN: list[tuple[str, ZerobusStream]] = []


@pytest.mark.asyncio
async def test_an_async_test_gets_a_stream_on_a_fresh_table(
    zerobus_async_stream: StreamFactory, zerobus_server: LocalZerobusServer
) -> None:
    table, stream = await zerobus_async_stream("id BIGINT NOT NULL, name STRING")
    other_table, _ = await zerobus_async_stream("id BIGINT NOT NULL, name STRING")
    assert table != other_table and zerobus_server.rows(table) == []
    await stream.ingest_records_offset([{"id": i, "name": f"n{i}"} for i in range(5)])
    await stream.flush()
    assert [row["id"] for row in zerobus_server.rows(table)] == list(range(5))
    # Not closed here: the fixture closes it after the test, delivering what is still queued.
    await stream.ingest_records_offset([{"id": 5, "name": "n5"}])
    LEFT_OPEN.append((table, stream))


def test_what_the_async_test_left_open_was_closed_after_it() -> None:
    ((_, stream),) = LEFT_OPEN
    assert stream.get_state() is StreamState.CLOSED
    assert stream.stats().acknowledged_records == 6


@pytest.mark.asyncio
async def test_an_async_test_gets_an_sdk_on_the_server(
    zerobus_async_sdk: SdkFactory, zerobus_table: Callable[..., str], zerobus_server: LocalZerobusServer
) -> None:
    sdk = await zerobus_async_sdk()
    assert isinstance(sdk, ZerobusSdk)
    table = zerobus_table("id BIGINT NOT NULL")
    async with await sdk.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table)
    ) as stream:
        await stream.ingest_records_offset([{"id": i} for i in range(3)])
    assert zerobus_server.wait_for_rows(table, 3) == 3


def test_a_plain_test_running_its_own_loop_uses_async_with(
    zerobus_async_stream: StreamFactory, zerobus_async_sdk: SdkFactory, zerobus_server: LocalZerobusServer
) -> None:
    async def scenario() -> tuple[str, ZerobusStream]:
        async with zerobus_async_sdk() as sdk:
            assert isinstance(sdk, ZerobusSdk)
        async with zerobus_async_stream("id BIGINT NOT NULL") as (table, stream):
            await stream.ingest_records_offset([{"id": i} for i in range(4)])
        return table, stream

    table, stream = asyncio.run(scenario())
    assert stream.get_state() is StreamState.CLOSED
    assert [row["id"] for row in zerobus_server.rows(table)] == list(range(4))


def test_an_error_in_the_async_with_block_is_not_hidden(zerobus_async_stream: StreamFactory) -> None:
    async def scenario() -> None:
        async with zerobus_async_stream("id BIGINT NOT NULL") as (_, stream):
            await stream.ingest_records_offset([{"id": 1}])
            raise LookupError("the test's own failure")

    with pytest.raises(LookupError, match="the test's own failure"):
        asyncio.run(scenario())


TEST_MODULE = """
import asyncio


def test_without_an_asyncio_plugin(zerobus_async_stream, zerobus_server):
    async def scenario():
        async with zerobus_async_stream("id BIGINT NOT NULL") as (table, stream):
            await stream.ingest_records_offset([{"id": i} for i in range(3)])
        return table

    table = asyncio.run(scenario())
    assert zerobus_server.wait_for_rows(table, 3) == 3


def test_leaving_a_stream_open_on_a_loop_that_closes(zerobus_async_stream, zerobus_server):
    zerobus_server.faults.withhold_acks()

    async def scenario():
        table, stream = await zerobus_async_stream("id BIGINT NOT NULL")
        await stream.ingest_records_offset([{"id": i} for i in range(3)])

    asyncio.run(scenario())
"""


def test_the_fixtures_need_no_asyncio_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_app.py").write_text(TEST_MODULE)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:asyncio",
            "-p",
            "no:anyio",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed, 1 warning" in result.stdout
    assert "left open with 3 unacknowledged record(s)" in result.stdout
    assert "use `async with zerobus_async_stream(...) as (table, stream):`" in result.stdout


def test_loading_the_plugin_imports_no_asyncio_plugin() -> None:
    code = (
        "import sys, zerobus.pytest_plugin; "
        "found = [m for m in ('pytest_asyncio', 'anyio') if m in sys.modules]; "
        "assert not found, found"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
