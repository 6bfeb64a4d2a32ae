"""Internal: The pytest plugin's asyncio fixtures: factories a test awaits on its own event loop.

The asyncio SDK's gRPC channels belong to the event loop that made them, and which loop runs a
test is its runner's choice (pytest-asyncio, anyio, or ``asyncio.run`` inside a plain test).
So these fixtures are plain fixtures returning factories: what the test awaits is made on the
test's loop, and the plugin depends on no asyncio plugin.

- ``sdk = await zerobus_async_sdk()``: an asyncio ``ZerobusSdk`` on `zerobus_server`.
- ``table, stream = await zerobus_async_stream("id BIGINT", options=None)``: a fresh table and
  an open asyncio stream to it (on an SDK of its own).

What was awaited is closed (flushed) as soon as the test returns, on the loop it was made on,
when the test's runner keeps that loop open until then (pytest-asyncio does). Used as
``async with zerobus_async_stream("id BIGINT") as (table, stream):``, it is closed at the end of
the block: the form for runners that close the loop with the test (anyio, ``asyncio.run``). A
stream awaited on such a runner and left open with unacknowledged records gets a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

import pytest

if TYPE_CHECKING:
    from zerobus.sdk.aio import ZerobusSdk, ZerobusStream
    from zerobus.sdk.shared import StreamConfigurationOptions
    from zerobus.server import LocalZerobusServer

__all__ = ["AsyncOpening", "pytest_runtest_call", "zerobus_async_sdk", "zerobus_async_stream"]

Opened = TypeVar("Opened")
ExcInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
Closer = Callable[[ExcInfo], Awaitable[None]]
NO_ERROR: ExcInfo = (None, None, None)


@dataclass(frozen=True)
class _Closing:
    """How to close what a factory made, and how many of its records a lost loop would lose."""

    close: Closer
    unacknowledged: Callable[[], int] = lambda: 0


class _LeftOpen:
    """What tests awaited from the factories and may not have closed, with the loop each belongs to."""

    def __init__(self) -> None:
        self._entries: list[tuple[asyncio.AbstractEventLoop, _Closing, str]] = []

    def add(self, loop: asyncio.AbstractEventLoop, closing: _Closing, what: str) -> None:
        self._entries.append((loop, closing, what))

    def close_all(self) -> None:
        """Close every entry, newest first, on its own loop; warn about records a closed loop lost."""
        from zerobus.errors import ZerobusException

        entries, self._entries = self._entries, []
        for loop, closing, what in reversed(entries):
            if loop.is_closed() or loop.is_running():
                lost = closing.unacknowledged()
                if lost:
                    warnings.warn(
                        f"{what} was left open with {lost} unacknowledged record(s) and its event loop "
                        "closed with the test: close it in the test, or use "
                        "`async with zerobus_async_stream(...) as (table, stream):`",
                        pytest.PytestWarning,
                        stacklevel=1,
                    )
                continue
            # Idempotent for what the test closed itself; what the test made fail has nothing to add.
            with contextlib.suppress(ZerobusException):
                loop.run_until_complete(closing.close(NO_ERROR))


class AsyncOpening(Generic[Opened]):
    """What the asyncio factories return: ``await`` it (closed after the test) or ``async with`` it."""

    def __init__(
        self, open_: Callable[[], Awaitable[tuple[Opened, _Closing]]], left_open: _LeftOpen, what: str
    ) -> None:
        self._open = open_
        self._left_open = left_open
        self._what = what
        self._close: Closer | None = None

    def __await__(self) -> Generator[object, None, Opened]:
        return self._open_until_teardown().__await__()

    async def _open_until_teardown(self) -> Opened:
        value, closing = await self._open()
        self._left_open.add(asyncio.get_running_loop(), closing, self._what)
        return value

    async def __aenter__(self) -> Opened:
        value, closing = await self._open()
        self._close = closing.close
        return value

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            await close((kind, error, trace))


def _new_sdk(server: LocalZerobusServer) -> ZerobusSdk:
    from zerobus.sdk.aio import ZerobusSdk

    return ZerobusSdk(server.grpc_endpoint, server.workspace_url)


LEFT_OPEN_KEY = pytest.StashKey[_LeftOpen]()


@pytest.fixture
def _zerobus_async_left_open(
    zerobus_table: Callable[..., str], request: pytest.FixtureRequest
) -> Iterator[_LeftOpen]:
    # After `zerobus_table`, so streams are closed before the tables they write to are dropped.
    left_open = _LeftOpen()
    request.node.stash[LEFT_OPEN_KEY] = left_open
    yield left_open
    left_open.close_all()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Close what the test left open as soon as it returns: asyncio plugins (pytest-asyncio)
    close the test's event loop before the fixtures' teardown, and a closed loop can flush nothing."""
    try:
        return (yield)
    finally:
        left_open = item.stash.get(LEFT_OPEN_KEY, None)
        if left_open is not None:
            left_open.close_all()


@pytest.fixture
def zerobus_async_sdk(
    zerobus_server: LocalZerobusServer, _zerobus_async_left_open: _LeftOpen
) -> Callable[[], AsyncOpening[ZerobusSdk]]:
    """Factory: ``sdk = await zerobus_async_sdk()``, an asyncio `ZerobusSdk` on `zerobus_server`."""

    def make() -> AsyncOpening[ZerobusSdk]:
        async def open_() -> tuple[ZerobusSdk, _Closing]:
            sdk = _new_sdk(zerobus_server)

            async def close(_: ExcInfo) -> None:
                await sdk.close()

            return sdk, _Closing(close)

        return AsyncOpening(open_, _zerobus_async_left_open, "an asyncio ZerobusSdk")

    return make


@pytest.fixture
def zerobus_async_stream(
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    _zerobus_async_left_open: _LeftOpen,
) -> Callable[..., AsyncOpening[tuple[str, ZerobusStream]]]:
    """Factory: ``table, stream = await zerobus_async_stream(columns_ddl, options=None)`` on a fresh table."""

    def make(
        columns: str, options: StreamConfigurationOptions | None = None
    ) -> AsyncOpening[tuple[str, ZerobusStream]]:
        async def open_() -> tuple[tuple[str, ZerobusStream], _Closing]:
            from zerobus.sdk.aio import TableProperties

            table = zerobus_table(columns)
            sdk = _new_sdk(zerobus_server)
            try:
                stream = await sdk.create_stream(
                    zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table), options
                )
            except BaseException:
                await sdk.close()
                raise

            async def close(exc_info: ExcInfo) -> None:
                try:
                    await stream.__aexit__(*exc_info)
                finally:
                    await sdk.close()

            def unacknowledged() -> int:
                stats = stream.stats()
                return stats.queued_records + stats.in_flight_records

            return (table, stream), _Closing(close, unacknowledged)

        return AsyncOpening(open_, _zerobus_async_left_open, f"the asyncio stream to {columns!r}")

    return make
