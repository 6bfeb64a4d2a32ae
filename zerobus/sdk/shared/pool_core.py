"""Internal: The decisions of a stream pool, with no I/O: where each record goes, and when to open a stream.

Both pool drivers (`zerobus.sdk.sync.pool`, `zerobus.sdk.aio.pool`) ask this core and only do
the I/O: ingest into the stream it names, open a stream when it asks for one, flush and close.

- Offsets: a submission's place in a pool is a `PoolOffset`, the pair ``(stream, offset)``: the
  stream's index in the pool and the offset that stream handed out (a plain tuple: the
  per-record path builds one per record, and a named tuple costs more to build). Order holds
  per stream, so a pool-wide counter would promise an order the table does not keep.
- Without a key, records go to the least-loaded stream that accepts records (fewest records
  not yet acknowledged; a stream with room beats a full one). The choice is made once per run,
  not per record: the chosen stream takes records until half of its in-flight window is
  unacknowledged (`switch_slack`; all of it if every stream was past half when it was chosen)
  or it stops accepting records (closing, failed); then the least-loaded stream is chosen
  again. A stream that keeps up keeps the records (consecutive records batch on the wire, and
  idle streams cost nothing), one that falls behind hands over to the others, and one stream
  failing or recovering (its window fills, no acks) never holds the others up.
- With a key, each record goes to the stream its key hashes to (`pool_keys`): records with
  the same key always go to the same stream, so their order holds. A keyed pool never grows:
  moving a key to a new stream could let its later records overtake earlier ones.
- Growth (``streams="auto"``): once per `PoolGrowth.window_s`, from the streams' acknowledged
  record counts read on the injected clock; when for `windows` windows in a row every live
  stream was acknowledged at `at_limit` of the per-stream limit or more while its in-flight
  window was at least half full (the pool, not the producer, is the bottleneck), the core
  asks for one more stream, up to `max_streams`, and logs why.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from zerobus.engine.pool_path import PoolLanes, compile_pool_ingest, switch_slack
from zerobus.errors import ZerobusException
from zerobus.sdk.shared.pool_keys import KeySpec, jump_hash, key_reader, stable_key_hash
from zerobus.sdk.shared.pool_setup import (
    PoolGrowth,
    PoolOffset,
    StreamArguments,
    check_pool_offset,
    pool_layout,
    raise_first,
)

# The pool's setup types are re-exported: callers import everything pool-related from here.
__all__ = [
    "PoolCore",
    "PoolGrowth",
    "PoolLanes",
    "PoolOffset",
    "StreamArguments",
    "StreamGauge",
    "check_pool_offset",
    "pool_layout",
    "queue_at_once",
    "raise_first",
    "route_groups",
    "switch_slack",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
# Keys whose stream is remembered (a dict lookup instead of a hash per record).
_KEY_CACHE_SIZE = 65_536


class StreamGauge(Protocol):
    """What the core reads of each stream's submission queue (`zerobus.engine.Submissions`).

    Plain attributes, read and never written here: the per-record route compares two of them.
    `window_end` is negative once the stream takes no more records (closing or failed).
    """

    next_offset: int
    window_end: int
    max_inflight: int

    @property
    def unacked_count(self) -> int: ...

    @property
    def acked_records(self) -> int: ...


class PoolCore:
    """Routing and growth of one pool. The drivers serialise growth; `route` may race harmlessly."""

    def __init__(
        self,
        gauges: Iterable[StreamGauge],
        key: KeySpec | None,
        growth: PoolGrowth | None,
        clock: Clock,
        table_name: str = "",
    ) -> None:
        self._gauges: list[StreamGauge] = list(gauges)
        self._read_key = key_reader(key) if key is not None else None
        self._key_field = key if isinstance(key, str) else "key"
        self._key_cache: dict[Any, int] = {}
        self._growth = growth
        self._clock = clock
        self._table_name = table_name
        self._current = 0
        self._slack = switch_slack(self._gauges[0])
        self.growing = False
        self._window_start = clock()
        self._acked_at_start = [gauge.acked_records for gauge in self._gauges]
        self._streak = 0

    @property
    def stream_count(self) -> int:
        return len(self._gauges)

    @property
    def keyed(self) -> bool:
        return self._read_key is not None

    # --- routing --------------------------------------------------------------------------------

    def route(self, record: Any) -> int:
        """The index of the stream for `record`; ``~index`` (negative) when a stream should be opened too."""
        if self._read_key is not None:
            return self._route_key(record)
        gauge = self._gauges[self._current]
        if gauge.next_offset + self._slack >= gauge.window_end:
            return self._rebalance()
        return self._current

    def compile_route(self) -> Callable[[Any], int]:
        """`route` for the per-record path, compiled into a closure: no attribute lookups per record.

        The same decisions as `route`; the current stream and its slack live in the closure.
        """
        if self._read_key is not None:
            return self._route_key
        gauges = self._gauges  # the same list growth appends to
        rebalance = self._rebalance
        current = self._current
        gauge, slack = gauges[current], self._slack

        def route_one(record: Any) -> int:
            nonlocal gauge, current, slack
            if gauge.next_offset + slack >= gauge.window_end:
                chosen = rebalance()
                current = chosen if chosen >= 0 else ~chosen
                gauge = gauges[current]
                slack = switch_slack(gauge)
                return chosen
            return current

        return route_one

    def compile_ingest_one(
        self,
        lanes: PoolLanes,
        general: Callable[[int, bytes | str], PoolOffset],
        grow: Callable[[], object],
    ) -> Callable[[Any], PoolOffset]:
        """The whole per-record path of a pool (route, encode, queue, offset) as one closure.

        `lanes` are the pool's streams' submission queues (`zerobus.engine.pool_path`): the
        closure queues into the chosen one itself. A record no stream takes at once goes,
        encoded, to `general(index, encoded)`, the driver's path that may wait (sync) or parks
        it for an await (asyncio: offset -1). `grow()` opens a stream when the core asks for
        one. The same decisions as `route`.
        """
        if self._read_key is not None:
            return compile_pool_ingest(lanes, self._route_key, general)
        rebalance = self._rebalance

        def choose() -> int:
            chosen = rebalance()
            if chosen >= 0:
                return chosen
            grow()
            return ~chosen

        return compile_pool_ingest(lanes, None, general, self._current, choose)

    def route_batch(self, records: list[Any]) -> list[tuple[int, list[Any]]]:
        """(stream index, its records in their order) per stream the batch goes to; growth as in `route`."""
        if not records:
            return []
        if self._read_key is None:
            return [(self.route(None), records)]
        groups: dict[int, list[Any]] = {}
        for record in records:
            groups.setdefault(self._route_key(record), []).append(record)
        return list(groups.items())

    def _route_key(self, record: Any) -> int:
        assert self._read_key is not None
        value = self._read_key(record)
        cache = self._key_cache
        try:
            index = cache.get(value)
        except TypeError:  # unhashable: key_bytes names what is wrong with it
            index = None
        if index is None:
            index = jump_hash(stable_key_hash(value, self._key_field), len(self._gauges))
            if len(cache) >= _KEY_CACHE_SIZE:
                cache.clear()
            with contextlib.suppress(TypeError):  # unhashable keys are not cached
                cache[value] = index
        return index

    def _rebalance(self) -> int:
        """Choose the least-loaded stream that accepts records (and has room, if one does)."""
        gauges = self._gauges
        count = len(gauges)
        best, best_load = self._current, None
        # From the stream after the current one: equal loads take turns instead of piling on one.
        for step in range(1, count + 1):
            index = (self._current + step) % count
            gauge = gauges[index]
            if gauge.window_end < 0:  # closing or failed: takes no records
                continue
            load = gauge.unacked_count + (0 if gauge.next_offset < gauge.window_end else gauge.max_inflight)
            if best_load is None or load < best_load:
                best, best_load = index, load
        self._current = best
        self._slack = switch_slack(gauges[best])
        return ~best if self._growth_due() else best

    def may_reroute(self, index: int) -> bool:
        """Whether a record refused by stream `index` may go to another stream instead.

        Only without a key (a key's records must stay on their stream), only when that stream
        stopped taking records (failed or closing: not an invalid record), and only while
        another stream still takes them.
        """
        if self._read_key is not None or self._gauges[index].window_end >= 0:
            return False
        return any(gauge.window_end >= 0 for gauge in self._gauges)

    def reroute(self) -> int:
        """The least-loaded stream that still takes records (after `may_reroute` said yes)."""
        index = self._rebalance()
        return ~index if index < 0 else index

    # --- growth ---------------------------------------------------------------------------------

    def _growth_due(self) -> bool:
        growth = self._growth
        if growth is None or self.growing or len(self._gauges) >= growth.max_streams:
            return False
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed < growth.window_s:
            return False
        # A stream added since the window started has no sample yet: zip leaves it out. Only
        # streams still taking records count (not failed, not closing).
        live = [
            (gauge, (gauge.acked_records - before) / elapsed)
            for gauge, before in zip(self._gauges, self._acked_at_start, strict=False)
            if gauge.window_end >= 0
        ]
        self._start_window(now)
        if not live:
            return False
        slowest = min(rate for _, rate in live)
        fill = sum(min(1.0, gauge.unacked_count / gauge.max_inflight) for gauge, _ in live) / len(live)
        limit = growth.stream_records_per_s
        if slowest < growth.at_limit * limit or fill < 0.5:
            self._streak = 0
            return False
        self._streak += 1
        if self._streak < growth.windows:
            return False
        self._streak = 0
        self.growing = True
        logger.info(
            "stream pool for %s: opening stream %d of at most %d: for %d window(s) of %g s every stream was "
            "acknowledged at %.0f records/s or more (the per-stream limit is %g records/s) with its "
            "in-flight window %.0f%% full on average",
            self._table_name,
            len(self._gauges) + 1,
            growth.max_streams,
            growth.windows,
            growth.window_s,
            slowest,
            limit,
            fill * 100,
        )
        return True

    def _start_window(self, now: float) -> None:
        self._window_start = now
        self._acked_at_start = [gauge.acked_records for gauge in self._gauges]

    def growth_done(self, gauge: StreamGauge | None) -> None:
        """The stream the core asked for is open (`gauge`), or could not be opened (None)."""
        if gauge is not None:
            self._gauges.append(gauge)
            self._key_cache = {}
        self.growing = False
        self._streak = 0
        self._start_window(self._clock())


def queue_at_once(core: PoolCore, index: int, queue_on: Callable[[int], object]) -> None:
    """A pool's `ingest_record_nowait`: `queue_on(index)` queues on stream `index` without
    waiting; if that stream just stopped taking records (and there is no key), another one does."""
    try:
        queue_on(index)
    except ZerobusException:
        if not core.may_reroute(index):
            raise
        queue_on(core.reroute())


def route_groups(
    core: PoolCore,
    records: list[Any],
    encode_many: Callable[[list[Any]], tuple[list[bytes | str], int]],
    grow: Callable[[], object],
) -> list[tuple[int, list[Any]]]:
    """A pool's batch: the records by stream (`grow()` if the core asks for a stream). Split over
    several streams, the parts come encoded: every record is validated before any part is queued."""
    groups = core.route_batch(records)
    if groups and groups[0][0] < 0:
        groups = [(~groups[0][0], groups[0][1])]
        grow()
    if len(groups) > 1:
        groups = [(index, encode_many(part)[0]) for index, part in groups]
    return groups
