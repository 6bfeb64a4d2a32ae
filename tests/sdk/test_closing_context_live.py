"""`with` / `async with` on streams and pools: closing at the end of the block, in both drivers.

A stream that failed for real (the local server refuses a request, recovery off) cannot close
cleanly. Leaving a block that raised lets the block's own exception through and logs the
closing error; leaving a block normally raises the closing error.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver, AioStream, SyncDriver
from zerobus.errors import ZerobusException
from zerobus.sdk.shared import TableProperties
from zerobus.server import LocalZerobusServer

Driver = SyncDriver | AioDriver


class BlockError(Exception):
    """What the body of the `with` block raises."""


def open_failed(driver: Driver, server: LocalZerobusServer, table: str, pooled: bool) -> Any:
    """A stream (or a one-stream pool) whose first request the server refused: it failed for good."""
    arguments = (server.client_id, server.client_secret, TableProperties(table), fast_options(recovery=False))
    if pooled:
        target = run(driver, driver.sdk.create_stream_pool, *arguments, streams=1)
    else:
        made = driver.create_stream(*arguments)
        target = made.inner if isinstance(made, AioStream) else made
    server.faults.fail_after(0, grpc.StatusCode.INVALID_ARGUMENT, "injected: refused")
    offset = run(driver, target.ingest_record_offset, {"id": 1})
    with pytest.raises(ZerobusException):  # woken by the stream's failure, not polled
        run(driver, target.wait_for_offset, offset)
    return target


def run(driver: Driver, function: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(driver, AioDriver):
        return driver.run(lambda: function(*args, **kwargs))
    return function(*args, **kwargs)


def leave_block(driver: Driver, target: Any, error: BaseException | None) -> None:
    """Enter `target` with the driver's own statement (`with` / `async with`); raise `error` inside."""
    if isinstance(driver, AioDriver):

        async def block() -> None:
            async with target:
                if error is not None:
                    raise error

        driver.run(block)
        return
    with target:
        if error is not None:
            raise error


@pytest.mark.parametrize("pooled", [False, True], ids=["stream", "pool"])
def test_the_blocks_own_error_goes_through_and_the_closing_error_is_logged(
    driver: Driver,
    zerobus_server: LocalZerobusServer,
    events_table: str,
    pooled: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    target = open_failed(driver, zerobus_server, events_table, pooled)
    with caplog.at_level(logging.WARNING, logger="zerobus"), pytest.raises(BlockError):
        leave_block(driver, target, BlockError("the body failed"))
    warnings = [r.getMessage() for r in caplog.records if "after an error failed too" in r.getMessage()]
    assert len(warnings) == 1 and "injected: refused" in warnings[0]


@pytest.mark.parametrize("pooled", [False, True], ids=["stream", "pool"])
def test_a_block_that_ends_normally_raises_the_closing_error(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str, pooled: bool
) -> None:
    target = open_failed(driver, zerobus_server, events_table, pooled)
    with pytest.raises(ZerobusException, match="injected: refused"):
        leave_block(driver, target, None)
