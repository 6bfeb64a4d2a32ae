"""Internal: `StreamPool` (synchronous): several streams to one table behind the ingest API of one stream.

The service holds each stream to about 15,000 records/s and 100 MB/s; a pool spreads records
over several streams to go past that. Every decision (which stream, when to open another) is
`PoolCore`'s; this driver ingests into the stream it names, opens streams on a thread of their
own (ingest never waits for a stream being opened), and flushes and closes them all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator

import grpc

from zerobus.encoders.base import EncodedRecords
from zerobus.errors import ZerobusException
from zerobus.sdk.shared.closing import ClosingContext
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
from zerobus.sdk.sync.stream import ZerobusStream

__all__ = ["StreamPool", "open_stream_pool"]

logger = logging.getLogger(__name__)


class StreamPool(PoolBase[ZerobusStream], ClosingContext):
    """Streams to one table, used as one: made by `ZerobusSdk.create_stream_pool`. Thread-safe.

    Offsets are ``(stream, offset)`` pairs (`PoolOffset`); pass them to `wait_for_offset`. Records of
    one key (with ``key=``) always go to one stream, in order; without a key they go to the
    least-loaded stream. `flush()` and `close()` cover every stream: a stream that failed does
    not stop the others from being flushed or closed, and its records stay in
    `get_unacked_records()`.
    """

    def __init__(
        self,
        open_stream: Callable[[], ZerobusStream],
        streams: int,
        key: KeySpec | None,
        growth: PoolGrowth | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_stream = open_stream
        self._streams: list[ZerobusStream] = []
        try:
            for _ in range(streams):
                self._streams.append(open_stream())
        except BaseException:
            for stream in self._streams:
                try:
                    stream.close()
                except ZerobusException as error:
                    logger.warning("closing a stream of a pool that failed to open: %s", error)
            raise
        table_name = self._streams[0].table_properties.table_name
        self._router = PoolCore([s._core.submissions for s in self._streams], key, growth, clock, table_name)
        self._route_one = self._router.route
        # The streams' queues, as the compiled per-record path writes them.
        self._lanes = PoolLanes(self._streams[0]._encoder, locked=True)
        for stream in self._streams:
            self._add_lane(stream)
        # Each pool runs its own compiled per-record path (`PoolCore.compile_ingest_one`).
        compiled = self._router.compile_ingest_one(self._lanes, self._queue_waiting, self._grow)
        compiled.__name__ = compiled.__qualname__ = "ingest_record_offset"
        compiled.__doc__ = StreamPool.ingest_record_offset.__doc__
        self.ingest_record_offset = compiled  # type: ignore[method-assign,assignment]
        self._growth_lock = threading.Lock()
        self._grower: threading.Thread | None = None
        self._closed = False

    # --- ingest ---------------------------------------------------------------------------------

    def ingest_record_offset(self, payload: Record) -> PoolOffset:
        """Queue one record on its stream; returns where it went (blocks only when that stream is full).

        Each pool replaces this method with `PoolCore.compile_ingest_one`: the same steps.
        """
        index = self._router.route(payload)
        if index < 0:
            index = ~index
            self._grow()
        encoded = self._streams[index]._encode(payload)
        return self._queue_waiting(index, encoded)

    def _queue_waiting(self, index: int, encoded: bytes | str) -> PoolOffset:
        """Queue an encoded record on stream `index`, waiting for room; if that stream just failed
        (and there is no key), another stream takes it."""
        try:
            return index, self._streams[index]._queue_payload(encoded)
        except ZerobusException:
            if not self._router.may_reroute(index):
                raise
        index = self._router.reroute()
        return index, self._streams[index]._queue_payload(encoded)

    def _add_lane(self, stream: ZerobusStream) -> None:
        self._lanes.add(stream._core.submissions, stream._lock, stream._sender_wake.notify)

    def ingest_records_offset(self, payloads: Iterable[Record]) -> list[PoolOffset]:
        """Queue several records; returns one `PoolOffset` per stream they went to ([] for none).

        Without a key the list goes to one stream as one submission (all-or-nothing, as on a
        stream). With a key it is split by stream, each part one submission; every record is
        validated before any part is queued, so an invalid record queues nothing.
        """
        records = payloads if type(payloads) is EncodedRecords else list(payloads)
        offsets = []
        for index, part in self._groups(records):
            offset = self._streams[index].ingest_records_offset(part)
            if offset is not None:
                offsets.append((index, offset))
        return offsets

    def ingest_arrow(self, data: object) -> list[PoolOffset]:
        """Queue the rows of Arrow data (see `ZerobusStream.ingest_arrow`); one `PoolOffset` per
        submission, each to the stream the pool picks. Pools without `key=` only."""
        refuse_keyed_arrow(self._router.keyed)
        offsets = []
        for submission in self._streams[0]._arrow_submissions(data):
            offsets.extend(self.ingest_records_offset(submission))
        return offsets

    # --- waiting --------------------------------------------------------------------------------

    def wait_for_offset(self, offset: PoolOffset, timeout_sec: float | None = None) -> None:
        """Block until the submission at `offset` (from this pool's ingest calls) is durable."""
        where = check_pool_offset(offset, len(self._streams))
        self._streams[where[0]].wait_for_offset(where[1], timeout_sec)

    def flush(self) -> None:
        """Block until everything ingested on every stream before this call is durable.

        Every stream is flushed even when one fails; then the first failure is raised.
        """
        errors: list[tuple[int, BaseException]] = []
        for index, stream in enumerate(self._streams):
            try:
                stream.flush()
            except ZerobusException as error:
                errors.append((index, error))
        raise_first(errors, "flush")

    def close(self) -> None:
        """Flush and close every stream (each even when another fails); then raise the first failure."""
        self._closed = True
        with self._growth_lock:
            grower = self._grower
        if grower is not None:
            grower.join()
        errors: list[tuple[int, BaseException]] = []
        for index, stream in enumerate(self._streams):
            try:
                stream.close()
            except ZerobusException as error:
                errors.append((index, error))
        raise_first(errors, "close")

    # --- what is left -----------------------------------------------------------------------------

    def get_unacked_records(self) -> Iterator[bytes | str]:
        """Every record not acknowledged, from every stream (stream by stream, each in ingest order)."""
        return (record for stream in list(self._streams) for record in stream.get_unacked_records())

    def get_unacked_batches(self) -> Iterator[list[bytes | str]]:
        """The unacknowledged records of every stream, one list per submission."""
        return (batch for stream in list(self._streams) for batch in stream.get_unacked_batches())

    # --- growth ---------------------------------------------------------------------------------

    def _grow(self) -> None:
        """Open one more stream on a thread of its own (the core asked for it)."""
        with self._growth_lock:
            if self._closed or (self._grower is not None and self._grower.is_alive()):
                self._router.growth_done(None)
                return
            self._grower = threading.Thread(target=self._open_one_more, name="zerobus-pool-grow", daemon=True)
            self._grower.start()

    def _open_one_more(self) -> None:
        try:
            stream = self._open_stream()
        except ZerobusException as error:
            self._growth_failed(error)
            return
        with self._growth_lock:
            if not self._adopt(stream):
                stream.close()


def open_stream_pool(
    config: SdkConfig,
    channel: Callable[[], grpc.Channel],
    arguments: StreamArguments,
    streams: int | str,
    key: KeySpec | None,
    growth: PoolGrowth | None,
) -> StreamPool:
    """`ZerobusSdk.create_stream_pool`: check the layout, plan once, open the streams."""
    count, growth = pool_layout(streams, key, growth)
    plan = plan_stream(config, *arguments)

    dead_letters = open_dead_letters(plan.options, plan.table.table_name)

    def open_stream() -> ZerobusStream:
        stream = ZerobusStream(config, plan, channel())
        stream._open()
        return stream

    return install_dead_letters(StreamPool(open_stream, count, key, growth), dead_letters)
