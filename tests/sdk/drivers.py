"""Run one test body against both drivers.

`SyncDriver` hands out the real sync objects. `AioDriver` runs an event loop in a thread and
hands out thin proxies: every stream method runs inside the loop (awaited if it returns an
awaitable), so a test written in blocking style drives the real asyncio stream. Only the
calling convention is adapted; nothing about the stream's behaviour is.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterable
from typing import Any

from zerobus.sdk import aio, sync

TIMEOUT_S = 60.0


class SyncDriver:
    name = "sync"

    def __init__(self, server_endpoint: str, workspace_url: str, **sdk_options: Any) -> None:
        self.sdk = sync.ZerobusSdk(server_endpoint, workspace_url, **sdk_options)

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self.sdk.create_stream(*args, **kwargs)

    def create_stream_with_headers_provider(self, *args: Any, **kwargs: Any) -> Any:
        return self.sdk.create_stream_with_headers_provider(*args, **kwargs)

    def create_stream_federated(self, *args: Any, **kwargs: Any) -> Any:
        return self.sdk.create_stream_federated(*args, **kwargs)

    def recreate_stream(self, stream: Any) -> Any:
        return self.sdk.recreate_stream(stream)

    def ingest_all(self, stream: Any, api: str, items: Iterable[Any]) -> list[Any]:
        method = getattr(stream, api)
        return [method(item) for item in items]

    def close(self) -> None:
        self.sdk.close()


class AioDriver:
    name = "aio"

    def __init__(self, server_endpoint: str, workspace_url: str, **sdk_options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-aio-loop", daemon=True)
        self.thread.start()
        self.sdk = aio.ZerobusSdk(server_endpoint, workspace_url, **sdk_options)

    def run(self, function: Callable[..., Any], *args: Any, timeout: float = TIMEOUT_S) -> Any:
        """Call `function(*args)` in the loop, awaiting the result if it is awaitable."""

        async def call() -> Any:
            result = function(*args)
            if inspect.isawaitable(result) and not isinstance(result, aio.RecordAcknowledgment):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout)

    def create_stream(self, *args: Any, **kwargs: Any) -> AioStream:
        return AioStream(self, self.run(lambda: self.sdk.create_stream(*args, **kwargs)))

    def create_stream_with_headers_provider(self, *args: Any, **kwargs: Any) -> AioStream:
        return AioStream(
            self, self.run(lambda: self.sdk.create_stream_with_headers_provider(*args, **kwargs))
        )

    def create_stream_federated(self, *args: Any, **kwargs: Any) -> AioStream:
        return AioStream(self, self.run(lambda: self.sdk.create_stream_federated(*args, **kwargs)))

    def recreate_stream(self, stream: AioStream) -> AioStream:
        return AioStream(self, self.run(self.sdk.recreate_stream, stream.inner))

    def ingest_all(self, stream: AioStream, api: str, items: Iterable[Any]) -> list[Any]:
        async def ingest() -> list[Any]:
            method = getattr(stream.inner, api)
            results = []
            for item in items:
                result = method(item)
                results.append(await result if inspect.isawaitable(result) else result)
            return results

        return asyncio.run_coroutine_threadsafe(ingest(), self.loop).result(TIMEOUT_S)

    def close(self) -> None:
        self.run(self.sdk.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class AioStream:
    """A blocking facade over an asyncio `ZerobusStream` (each call runs in the loop)."""

    def __init__(self, driver: AioDriver, inner: aio.ZerobusStream) -> None:
        self.driver = driver
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value

        def call(*args: Any) -> Any:
            result = self.driver.run(value, *args)
            return AioAck(self.driver, result) if isinstance(result, aio.RecordAcknowledgment) else result

        return call

    def __enter__(self) -> AioStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.driver.run(self.inner.__aexit__, *exc_info)


class AioAck:
    """A blocking facade over the asyncio `RecordAcknowledgment`."""

    def __init__(self, driver: AioDriver, inner: aio.RecordAcknowledgment) -> None:
        self.driver = driver
        self.inner = inner
        self.offset = inner.offset

    def wait_for_ack(self, timeout_sec: float | None = None) -> int:
        return int(self.driver.run(self.inner.wait_for_ack, timeout_sec))

    def awaited(self) -> int:
        """What `await ack` gives."""

        async def wait() -> int:
            return await self.inner

        return int(self.driver.run(wait))

    def is_done(self) -> bool:
        return bool(self.driver.run(self.inner.is_done))

    def add_done_callback(self, callback: Callable[[int], Any]) -> None:
        self.driver.run(self.inner.add_done_callback, callback)
