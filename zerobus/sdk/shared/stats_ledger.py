"""Internal: Stats over many streams: one SDK object's (`sdk.stats()`), one pool's, or one table's (OpenTelemetry).

Each SDK object has a `StatsLedger`, found through its `SdkConfig` (which every stream of that
SDK, pooled or not, already holds). Open streams are held weakly and read on demand; a stream
that closes has its final counts folded into per-table totals, so the cumulative counts of an
SDK never go down when streams come and go (what an OpenTelemetry counter requires). A stream
dropped without `close()` leaves the totals once it is garbage-collected.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from zerobus.engine.state import TERMINAL_STATES
from zerobus.engine.stats import StreamStats, percentile

__all__ = ["AggregateStats", "StatsLedger", "aggregate", "all_ledgers", "ledger_for", "stats_by_table"]

# The counts that only grow during a stream's life: what survives a stream's closing.
_CUMULATIVE = (
    "ingested_records",
    "acknowledged_records",
    "sent_requests",
    "sent_bytes",
    "acknowledged_bytes",
    "recoveries",
)


@dataclass(frozen=True)
class AggregateStats:
    """Stats of several streams (`sdk.stats()`, `pool.stats()`): the sums of their `StreamStats`.

    Record and size counts, `sent_requests` and `recoveries` are summed over every stream counted,
    closed ones included; `queued_records` and `in_flight_records` over the streams not closed.
    """

    #: Streams counted (open, failed or closed).
    streams: int
    #: Of those, streams neither closed nor failed.
    open_streams: int
    #: Records accepted by ingest calls (every stream counted).
    ingested_records: int
    #: Records waiting to be sent or resent (open streams only).
    queued_records: int
    #: Records sent and not yet acknowledged (open streams only).
    in_flight_records: int
    #: Records acknowledged as durable (every stream counted).
    acknowledged_records: int
    #: Requests sent, resends included (every stream counted).
    sent_requests: int
    #: Size of the records sent, resends included (units as in `StreamStats`).
    sent_bytes: int
    #: Size of the records acknowledged, each counted once.
    acknowledged_bytes: int
    #: Server calls reopened after each stream's first (every stream counted).
    recoveries: int
    #: The most recent error of any stream counted, or None.
    last_error: str | None
    #: Percentiles over the merged latency windows of the streams not closed (None: no acks).
    ack_latency_p50_s: float | None
    ack_latency_p99_s: float | None


class _Totals:
    """What closed streams leave behind in one table's totals."""

    __slots__ = ("counts", "last_error", "last_error_at", "streams")

    def __init__(self) -> None:
        self.streams = 0
        self.counts = dict.fromkeys(_CUMULATIVE, 0)
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    def add(self, stats: StreamStats) -> None:
        self.streams += 1
        for name in _CUMULATIVE:
            self.counts[name] += getattr(stats, name)
        if stats.last_error is not None and _later(stats._last_error_at, self.last_error_at):
            self.last_error, self.last_error_at = stats.last_error, stats._last_error_at


def _later(candidate: float | None, current: float | None) -> bool:
    return current is None or (candidate is not None and candidate >= current)


def aggregate(streams: Iterable[StreamStats], closed: Iterable[_Totals] = ()) -> AggregateStats:
    """Sum `streams` (snapshots) and the totals of streams already `closed`."""
    totals = _Totals()
    for part in closed:
        totals.streams += part.streams
        for name in _CUMULATIVE:
            totals.counts[name] += part.counts[name]
        if part.last_error is not None and _later(part.last_error_at, totals.last_error_at):
            totals.last_error, totals.last_error_at = part.last_error, part.last_error_at
    open_streams = queued = in_flight = 0
    samples: list[float] = []
    for stats in streams:
        totals.add(stats)
        if stats.state not in TERMINAL_STATES:
            open_streams += 1
            queued += stats.queued_records
            in_flight += stats.in_flight_records
            samples.extend(stats._latency_samples)
    return AggregateStats(
        streams=totals.streams,
        open_streams=open_streams,
        queued_records=queued,
        in_flight_records=in_flight,
        last_error=totals.last_error,
        ack_latency_p50_s=percentile(samples, 0.5),
        ack_latency_p99_s=percentile(samples, 0.99),
        **totals.counts,
    )


class _Reporting(Protocol):
    """A stream, as far as the ledger is concerned."""

    def stats(self) -> StreamStats: ...


class StatsLedger:
    """The streams of one SDK object: open ones read live, closed ones as totals per table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[_Reporting] = weakref.WeakSet()
        self._closed: dict[str, _Totals] = {}

    def track(self, stream: _Reporting) -> None:
        """`stream` opened: count it until it closes."""
        with self._lock:
            self._open.add(stream)

    def retire(self, stream: _Reporting) -> None:
        """`stream` closed (or its close gave up): keep its final counts (once, however often called)."""
        with self._lock:
            if stream not in self._open:
                return
            self._open.discard(stream)
            final = stream.stats()
            self._closed.setdefault(final.table_name, _Totals()).add(final)

    def stats(self, table_name: str | None = None) -> AggregateStats:
        """Every stream of the SDK, or only those writing to `table_name`."""
        with self._lock:
            streams = list(self._open)
            closed = [t for name, t in self._closed.items() if table_name in (None, name)]
        live = (s.stats() for s in streams)
        return aggregate((s for s in live if table_name in (None, s.table_name)), closed)

    def by_table(self) -> tuple[list[StreamStats], dict[str, _Totals]]:
        """Snapshots of the open streams and the totals of closed ones per table (to merge ledgers)."""
        with self._lock:
            streams = list(self._open)
            closed = dict(self._closed)
        return [s.stats() for s in streams], closed


def stats_by_table(ledgers: Iterable[StatsLedger]) -> dict[str, AggregateStats]:
    """The streams of all `ledgers` (several SDK objects) summed per table."""
    snapshots: dict[str, list[StreamStats]] = {}
    closed: dict[str, list[_Totals]] = {}
    for ledger in ledgers:
        streams, totals = ledger.by_table()
        for stats in streams:
            snapshots.setdefault(stats.table_name, []).append(stats)
        for name, part in totals.items():
            closed.setdefault(name, []).append(part)
    names = sorted(set(snapshots) | set(closed))
    return {name: aggregate(snapshots.get(name, ()), closed.get(name, ())) for name in names}


_ledgers: weakref.WeakKeyDictionary[object, StatsLedger] = weakref.WeakKeyDictionary()
_ledgers_lock = threading.Lock()


def ledger_for(owner: object) -> StatsLedger:
    """The ledger of an SDK object, keyed by its `SdkConfig` (made on first use)."""
    with _ledgers_lock:
        ledger = _ledgers.get(owner)
        if ledger is None:
            ledger = _ledgers[owner] = StatsLedger()
        return ledger


def all_ledgers() -> list[StatsLedger]:
    """The ledger of every SDK object alive (what OpenTelemetry observes)."""
    with _ledgers_lock:
        return list(_ledgers.values())
