"""`StreamPool` for asyncio: several streams to one table behind the ingest API of one stream.

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
from zerobus.sdk.shared.dead_letter_calls import install_dead_letters, open_dead_letters
from zerobus.sdk.shared.pool_core import (
    PoolCore,
    PoolGrowth,
    PoolOffset,
    StreamArguments,
    check_pool_offset,
    pool_layout,
    queue_at_once,
    raise_first,
    route_groups,
)
from zerobus.sdk.shared.pool_keys import KeySpec, refuse_keyed_arrow
from zerobus.sdk.shared.state import StreamState
from zerobus.sdk.shared.stats_ledger import AggregateStats, aggregate
from zerobus.sdk.shared.stream_base import Record
from zerobus.sdk.shared.stream_plan import SdkConfig, plan_stream

__all__ = ["StreamPool", "open_stream_pool"]

logger = logging.getLogger(__name__)


class StreamPool:
    """Streams to one table, used as one: made by ``await sdk.create_stream_pool(...)``.

    Use from the event loop that made it. Offsets, routing, flush and close as in
    `zerobus.sdk.sync.pool.StreamPool`.
    """

    def __init__(
        self, open_stream: Callable[[], Awaitable[ZerobusStream]], streams: list[ZerobusStream]
    ) -> None:
        self._open_stream = open_stream
        self._streams = streams
        self._core: PoolCore | None = None
        self._grower: asyncio.Task[None] | None = None
        self._since_yield = 0
        self._route_one: Callable[[Any], int] = lambda record: 0
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
        pool._core = PoolCore([s._core.submissions for s in opened], key, growth, loop_clock, table_name)
        pool._route_one = pool._core.compile_route()
        return pool

    @property
    def _router(self) -> PoolCore:
        assert self._core is not None, "use StreamPool.open()"
        return self._core

    # --- the pool -------------------------------------------------------------------------------

    @property
    def streams(self) -> tuple[ZerobusStream, ...]:
        """The pool's streams, in index order (a pool offset's stream index indexes this)."""
        return tuple(self._streams)

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def get_states(self) -> list[StreamState]:
        return [stream.get_state() for stream in self._streams]

    def stats(self) -> AggregateStats:
        """The pool's streams' stats summed (each stream's own: `pool.streams[i].stats()`)."""
        return aggregate([stream.stats() for stream in list(self._streams)])

    # --- ingest ---------------------------------------------------------------------------------

    async def ingest_record_offset(self, payload: Record) -> PoolOffset:
        """Queue one record on its stream; returns where it went (awaits only when that stream is full)."""
        index = self._route_one(payload)
        if index < 0:
            index = ~index
            self._grow()
        # The stream's compiled per-record path directly (no second coroutine per record); it
        # returns -1 when the record must take the stream's general path (window full, failed),
        # and parks the record, encoded: the general path takes it from there (encoded once).
        stream = self._streams[index]
        offset = stream._ingest_one(payload)
        if offset < 0:
            encoded = stream._take_parked()
            try:
                offset = await stream._queue_payload(encoded)
            except ZerobusException:
                if not self._router.may_reroute(index):
                    raise
                index = self._router.reroute()  # that stream failed meanwhile: another one takes it
                offset = await self._streams[index]._queue_payload(encoded)
        # As a stream does: ingest calls that never await would starve the streams' senders.
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            self._since_yield = 0
            await asyncio.sleep(0)
        return index, offset

    def ingest_record_nowait(self, payload: Record) -> None:
        """Queue one record at once, never waiting (see `ZerobusStream.ingest_record_nowait`)."""
        index = self._route_one(payload)
        if index < 0:
            index = ~index
            self._grow()
        queue_at_once(self._router, index, lambda chosen: self._streams[chosen].ingest_record_nowait(payload))

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

    def ingest_records_nowait(self, payloads: Iterable[Record]) -> None:
        """`ingest_records_offset` without awaiting (may take streams past `max_inflight_records`)."""
        for index, part in self._groups(list(payloads)):
            self._streams[index].ingest_records_nowait(part)

    def _groups(self, records: list[Any]) -> list[tuple[int, list[Any]]]:
        """The records by stream; with several streams, encoded (all validated before any is queued)."""
        return route_groups(self._router, records, self._streams[0]._encoder.encode_many, self._grow)

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

    async def __aenter__(self) -> StreamPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.close()
        except ZerobusException as error:
            if exc_info[0] is None:
                raise
            logger.warning("closing a stream pool after an error failed too: %s", error)

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
            logger.warning(
                "stream pool: opening another stream failed (the pool goes on as it is): %s", error
            )
            self._router.growth_done(None)
            return
        if self._closed:
            await stream.close()
            self._router.growth_done(None)
            return
        self._streams.append(stream)
        self._router.growth_done(stream._core.submissions)


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
