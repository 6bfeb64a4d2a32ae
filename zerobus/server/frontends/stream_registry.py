"""Internal: The open stream calls of a server, for durability wake-ups, fault listeners and close signals.

Everything here runs in the event loop thread, or hops onto it: the log's commit thread reports
durability through `on_durable`, fault controls and the admin API call in from other threads.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc

from zerobus.server.faults import CallEnding
from zerobus.server.frontends.stream_state import SHUTDOWN_ERROR
from zerobus.server.storage.tables import TableRuntime

if TYPE_CHECKING:
    from zerobus.server.frontends.stream_call import StreamCall

__all__ = ["StreamRegistry"]


class StreamRegistry:
    """Open calls, for durability wake-ups, fault listeners and close signals (loop thread only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.calls: set[StreamCall] = set()

    def on_durable(self, table: TableRuntime) -> None:
        """From the commit thread: wake the calls writing to `table`."""
        self.loop.call_soon_threadsafe(self._wake_table, table)

    def _wake_table(self, table: TableRuntime) -> None:
        for call in self.calls:
            if call.table is table:
                call.wake()

    def wake_all(self) -> None:
        def wake() -> None:
            for call in list(self.calls):
                call.wake()

        self.loop.call_soon_threadsafe(wake)

    async def end_all(self, timeout_s: float) -> None:
        """End every open call with UNAVAILABLE (retryable) and wait, at most `timeout_s`, for them."""
        for call in list(self.calls):
            call.end_now(CallEnding(grpc.StatusCode.UNAVAILABLE, SHUTDOWN_ERROR, store=False))
        deadline = self.loop.time() + timeout_s
        while self.calls and self.loop.time() < deadline:
            await asyncio.sleep(0.01)

    def close_signal_all(self, duration_s: float) -> int:
        """From any thread: send CloseStreamSignal to every open stream; returns how many."""

        async def signal() -> int:
            calls = [call for call in self.calls if call.accepted]
            for call in calls:
                call.signal_close(duration_s)
            return len(calls)

        return asyncio.run_coroutine_threadsafe(signal(), self.loop).result(timeout=10)
