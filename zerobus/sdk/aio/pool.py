"""Internal: `StreamPool` for asyncio: several streams to one table behind the ingest API of one stream.

The asyncio twin of `zerobus.sdk.sync.pool`: the same `PoolCore` decides; this driver awaits
the stream it names, opens streams in a task of their own, and flushes and closes them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import grpc.aio

from zerobus.encoders.base import EncodedRecords
from zerobus.errors import ZerobusException
from zerobus.sdk.aio.stream import _YIELD_EVERY, ZerobusStream
from zerobus.sdk.shared.closing import AsyncClosingContext
from zerobus.sdk.shared.dead_letter_calls import install_dead_letters, open_dead_letters
from zerobus.sdk.shared.pool_base import PoolBase
from zerobus.sdk.shared.pool_core import (
    PoolCore,
    PoolGrowth,
    PoolLanes,
    PoolOffset,
    StreamArguments,
    check_pool_offset,
    pool_layout,
    raise_first,
)
from zerobus.sdk.shared.pool_keys import KeySpec, refuse_keyed_arrow
from zerobus.sdk.shared.stream_base import Record
from zerobus.sdk.shared.stream_plan import SdkConfig, plan_stream

__all__ = ["StreamPool", "open_stream_pool"]

logger = logging.getLogger(__name__)


class StreamPool(PoolBase[ZerobusStream], AsyncClosingContext):
    """Streams to one table, used as one: made by ``await sdk.create_stream_pool(...)``.

    Use from the event loop that made it. Offsets, routing, flush and close as in
    `zerobus.sdk.sync.pool.StreamPool`.
    """

    def __init__(
        self, open_stream: Callable[[], Awaitable[ZerobusStream]], streams: list[ZerobusStream]
    ) -> None:
        self._open_stream = open_stream
        self._streams = streams
        self._grower: asyncio.Task[None] | None = None
        self._since_yield = 0
        self._route_one = lambda record: 0
        # The streams' queues, as the compiled per-record path writes them (one thread: no locks).
        self._lanes = PoolLanes(streams[0]._encoder, locked=False)
        for stream in streams:
            self._add_lane(stream)
        self._ingest_one: Callable[[Any], PoolOffset] = lambda record: (0, -1)
        # The record the per-record path could not queue at once, encoded, until it is awaited.
        self._parked: bytes | str = b""
        self._closed = False

    @classmethod
    async def open(
        cls,
        open_stream: Callable[[], Awaitable[ZerobusStream]],
        streams: int,
        key: KeySpec | None,
        growth: PoolGrowth | None,
        clock: Callable[[], float] | None = None,
    ) -> StreamPool:
        """Open `streams` streams (closing those already open if one cannot be opened)."""
        opened: list[ZerobusStream] = []
        try:
            for _ in range(streams):
                opened.append(await open_stream())
        except BaseException:
            for stream in opened:
                try:
                    await stream.close()
                except ZerobusException as error:
                    logger.warning("closing a stream of a pool that failed to open: %s", error)
            raise
        pool = cls(open_stream, opened)
        loop_clock = clock or asyncio.get_running_loop().time
        table_name = opened[0].table_properties.table_name
        pool._router = PoolCore([s._core.submissions for s in opened], key, growth, loop_clock, table_name)
        pool._route_one = pool._router.compile_route()
        pool._ingest_one = pool._router.compile_ingest_one(pool._lanes, pool._park, pool._grow)
        return pool

    # --- ingest ---------------------------------------------------------------------------------

    async def ingest_record_offset(self, payload: Record) -> PoolOffset:
        """Queue one record on its stream; returns where it went (awaits only when that stream is full)."""
        # The pool's compiled per-record path (no second coroutine per record). Offset -1: no
        # stream could take the record at once; it is parked, encoded, for the path that awaits.
        where = self._ingest_one(payload)
        if where[1] < 0:
            where = await self._queue_parked(where[0])
        # As a stream does: ingest calls that never await would starve the streams' senders.
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            self._since_yield = 0
            await asyncio.sleep(0)
        return where

    def _park(self, index: int, encoded: bytes | str) -> PoolOffset:
        """The compiled path's general path: keep the record for `_queue_parked` (it cannot await)."""
        self._parked = encoded
        return index, -1

    async def _queue_parked(self, index: int) -> PoolOffset:
        """Queue the parked record on stream `index` once it has room; if that stream failed
        meanwhile (and there is no key), another stream takes it."""
        encoded, self._parked = self._parked, b""
        try:
            return index, await self._streams[index]._queue_payload(encoded)
        except ZerobusException:
            if not self._router.may_reroute(index):
                raise
        index = self._router.reroute()
        return index, await self._streams[index]._queue_payload(encoded)

    def _add_lane(self, stream: ZerobusStream) -> None:
        self._lanes.add(stream._core.submissions, None, stream._work.set)

    async def ingest_records_offset(self, payloads: Iterable[Record]) -> list[PoolOffset]:
        """Queue several records; one `PoolOffset` per stream they went to (see the sync pool)."""
        offsets = []
        records = payloads if type(payloads) is EncodedRecords else list(payloads)
        for index, part in self._groups(records):
            offset = await self._streams[index].ingest_records_offset(part)
            if offset is not None:
                offsets.append((index, offset))
        return offsets

    async def ingest_arrow(self, data: object) -> list[PoolOffset]:
        """Queue the rows of Arrow data (see `ZerobusStream.ingest_arrow`); one `PoolOffset` per
        submission, each to the stream the pool picks. Pools without `key=` only."""
        refuse_keyed_arrow(self._router.keyed)
        offsets = []
        for submission in self._streams[0]._arrow_submissions(data):
            offsets.extend(await self.ingest_records_offset(submission))
        return offsets

    # --- waiting --------------------------------------------------------------------------------

    async def wait_for_offset(self, offset: PoolOffset, timeout_sec: float | None = None) -> None:
        """Until the submission at `offset` (from this pool's ingest calls) is durable."""
        where = check_pool_offset(offset, len(self._streams))
        await self._streams[where[0]].wait_for_offset(where[1], timeout_sec)

    async def flush(self) -> None:
        """Until everything ingested on every stream before this call is durable (all flushed at once)."""
        await self._on_every_stream("flush", [stream.flush() for stream in self._streams])

    async def close(self) -> None:
        """Flush and close every stream (each even when another fails); then raise the first failure."""
        self._closed = True
        if self._grower is not None:
            await asyncio.wait({self._grower})
        await self._on_every_stream("close", [stream.close() for stream in list(self._streams)])

    @staticmethod
    async def _on_every_stream(what: str, steps: list[Awaitable[None]]) -> None:
        results = await asyncio.gather(*steps, return_exceptions=True)
        errors: list[tuple[int, BaseException]] = []
        for index, result in enumerate(results):
            if isinstance(result, ZerobusException):
                errors.append((index, result))
            elif isinstance(result, BaseException):
                raise result
        raise_first(errors, what)

    # --- what is left -----------------------------------------------------------------------------

    async def get_unacked_records(self) -> Iterator[bytes | str]:
        """Every record not acknowledged, from every stream (stream by stream, each in ingest order)."""
        records: list[bytes | str] = []
        for stream in list(self._streams):
            records.extend(await stream.get_unacked_records())
        return iter(records)

    async def get_unacked_batches(self) -> Iterator[list[bytes | str]]:
        """The unacknowledged records of every stream, one list per submission."""
        batches: list[list[bytes | str]] = []
        for stream in list(self._streams):
            batches.extend(await stream.get_unacked_batches())
        return iter(batches)

    # --- growth ---------------------------------------------------------------------------------

    def _grow(self) -> None:
        """Open one more stream in a task of its own (the core asked for it)."""
        if self._closed or (self._grower is not None and not self._grower.done()):
            self._router.growth_done(None)
            return
        self._grower = asyncio.ensure_future(self._open_one_more())

    async def _open_one_more(self) -> None:
        try:
            stream = await self._open_stream()
        except ZerobusException as error:
            self._growth_failed(error)
            return
        if not self._adopt(stream):
            await stream.close()


async def open_stream_pool(
    config: SdkConfig,
    channel: Callable[[], grpc.aio.Channel],
    arguments: StreamArguments,
    streams: int | str,
    key: KeySpec | None,
    growth: PoolGrowth | None,
) -> StreamPool:
    """`ZerobusSdk.create_stream_pool`: check the layout, plan once (off the loop), open the streams."""
    count, growth = pool_layout(streams, key, growth)
    plan = await asyncio.to_thread(plan_stream, config, *arguments)

    dead_letters = open_dead_letters(plan.options, plan.table.table_name)

    async def open_stream() -> ZerobusStream:
        stream = ZerobusStream(config, plan, channel())
        await stream._open()
        return stream

    return install_dead_letters(await StreamPool.open(open_stream, count, key, growth), dead_letters)
