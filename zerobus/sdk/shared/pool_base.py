"""Internal: what both drivers' `StreamPool` do without waiting, written once.

Reading the pool's streams, queueing records at once (`*_nowait`) and grouping a list of
records by stream never block nor await; the drivers add what waits (ingest, flush, close)
and how another stream is opened (a thread, or a task).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from zerobus.errors import ZerobusException
from zerobus.sdk.shared.pool_core import PoolCore, queue_at_once, route_groups
from zerobus.sdk.shared.state import StreamState
from zerobus.sdk.shared.stats_ledger import AggregateStats, aggregate
from zerobus.sdk.shared.stream_base import Record, StreamBase

__all__ = ["PoolBase"]

logger = logging.getLogger(__name__)

StreamT = TypeVar("StreamT", bound=StreamBase)


class PoolBase(Generic[StreamT]):
    """The streams of a pool and the parts of its API that never wait."""

    _streams: list[StreamT]
    _router: PoolCore
    _closed: bool
    # Which stream takes a record (`PoolCore.route`, or its compiled form); below 0: `~index`,
    # and the pool should grow.
    _route_one: Callable[[Record], int]

    def _grow(self) -> None:
        """Open one more stream in the background (the core asked for it)."""
        raise NotImplementedError

    def _add_lane(self, stream: StreamT) -> None:
        """Let the compiled per-record path queue on `stream` too."""
        raise NotImplementedError

    def _growth_failed(self, error: ZerobusException) -> None:
        """Opening another stream failed: the pool goes on with the streams it has."""
        logger.warning("stream pool: opening another stream failed (the pool goes on as it is): %s", error)
        self._router.growth_done(None)

    def _adopt(self, stream: StreamT) -> bool:
        """A stream opened to grow the pool joins it; False if the pool closed meanwhile (close it)."""
        if self._closed:
            self._router.growth_done(None)
            return False
        self._streams.append(stream)
        self._add_lane(stream)
        self._router.growth_done(stream._core.submissions)
        return True

    @property
    def streams(self) -> tuple[StreamT, ...]:
        """The pool's streams, in index order (a pool offset's stream index indexes this)."""
        return tuple(self._streams)

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    def get_states(self) -> list[StreamState]:
        """Each stream's state, in index order."""
        return [stream.get_state() for stream in self._streams]

    def stats(self) -> AggregateStats:
        """The pool's streams' stats summed (each stream's own: `pool.streams[i].stats()`)."""
        return aggregate([stream.stats() for stream in list(self._streams)])

    def ingest_record_nowait(self, payload: Record) -> None:
        """Queue one record at once, never waiting (see `ZerobusStream.ingest_record_nowait`)."""
        index = self._route_one(payload)
        if index < 0:
            index = ~index
            self._grow()
        queue_at_once(self._router, index, lambda chosen: self._streams[chosen].ingest_record_nowait(payload))

    def ingest_records_nowait(self, payloads: Iterable[Record]) -> None:
        """Queue several records at once, never waiting (see `ZerobusStream.ingest_records_nowait`)."""
        for index, part in self._groups(list(payloads)):
            self._streams[index].ingest_records_nowait(part)

    def _groups(self, records: list[Record]) -> list[tuple[int, list[Record]]]:
        """The records by stream; with several streams, encoded (all validated before any is queued)."""
        return route_groups(self._router, records, self._streams[0]._encoder.encode_many, self._grow)

    @staticmethod
    def _close_on_exit_failed(error: ZerobusException, exc_type: object) -> None:
        """Closing at the end of `with` / `async with` raised `error`: raise it, unless the block
        itself ended by an exception (`exc_type`): then log it and let the first one through."""
        if exc_type is None:
            raise error
        logger.warning("closing a stream pool after an error failed too: %s", error)
