"""Internal: The per-record path of a stream pool: encode, pick the stream, queue, hand out ``(stream, offset)``.

`Submissions.compile_ingest_one` is one stream's per-record path; this is a pool's, over the
submission queues of all its streams. It queues into the chosen stream's queue itself instead
of calling that stream's compiled path: a second Python call per record was most of what a
pool cost over a single stream. Which stream is the pool's decision (`PoolCore` in
`zerobus.sdk.shared.pool_core`), passed in as functions:

- With a key, `route_key(record)` names the stream of each record.
- Without one, records go to the current stream until half of its in-flight window is
  unacknowledged (`switch_slack`), or it cannot take a record at once (window full, no longer
  accepting); then `choose()` (the least-loaded choice) picks the stream again.

A record the stream cannot take at once (its window full, the stream failed, or a payload
large enough to need the 10 MiB check) goes, encoded, to the driver's `general(index,
encoded)`, which waits for room (sync) or parks the record for an await (asyncio).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from zerobus.engine.submissions import DirectEncoder, Mutex, Payload, Submissions

__all__ = ["PoolLanes", "compile_pool_ingest", "switch_slack"]

# (stream index, its submission queue, lock acquire, lock release, wake its sender, its slack:
# the room it keeps free in its window before the pool chooses again; see `switch_slack`).
Lane = tuple[int, Submissions, Callable[[], object], Callable[[], object], Callable[[], object], int]
# Where a record went: (stream index, that stream's offset); offset -1: not queued (see `general`).
Placed = tuple[int, int]


class Window(Protocol):
    """A stream's in-flight window as `Submissions` keeps it (a pool's `StreamGauge` too)."""

    next_offset: int
    window_end: int
    max_inflight: int


def switch_slack(window: Window) -> int:
    """How much of a newly chosen stream's window stays free before the pool chooses again:
    half of it, so that a stream falling behind hands over while it still has room; none when
    the stream is past half already (every stream is: filling it beats choosing per record)."""
    half = window.max_inflight // 2
    return half if window.next_offset + half < window.window_end else 0


def _no_lock() -> None:
    """Acquire and release of a pool without locks (asyncio: one thread); never called."""


class _NoDirectClass:
    """Stands in for `direct_class` when the encoder has none: no record is of this type."""


class PoolLanes:
    """A pool's streams as its per-record path sees them, one `Lane` per stream, in index order.

    A lane is one tuple so that a thread reads a stream's queue and lock together even while
    another thread switches the current stream. The driver adds a lane for each stream it opens,
    before the pool's core learns of that stream (so no choice names a stream without a lane).
    `locked`: the sync driver's streams each have a lock; the asyncio driver's run on one thread.
    """

    def __init__(self, encoder: DirectEncoder, locked: bool) -> None:
        self.encoder = encoder
        self.locked = locked
        self.lanes: list[Lane] = []

    def add(self, queue: Submissions, lock: Mutex | None, wake_sender: Callable[[], object]) -> None:
        """The next stream: its queue, its driver's lock (None for asyncio), its sender's wake-up."""
        if (lock is not None) != self.locked:
            raise ValueError(f"a pool with locked={self.locked} got a stream with lock {lock!r}")
        acquire, release = (lock.acquire, lock.release) if lock is not None else (_no_lock, _no_lock)
        self.lanes.append((len(self.lanes), queue, acquire, release, wake_sender, 0))

    def chosen(self, index: int) -> Lane:
        """Stream `index`'s lane as the pool's current stream: with its `switch_slack`."""
        lane = self.lanes[index]
        return (*lane[:5], switch_slack(lane[1]))

    def queue_now(self, index: int, encoded: Payload) -> int:
        """Queue `encoded` on stream `index` if its window has room now; its offset, or -1."""
        _, queue, acquire, release, wake_sender, _ = self.lanes[index]
        locked = self.locked
        if locked:
            acquire()
        try:
            offset = queue.next_offset
            if offset < queue.window_end and len(encoded) <= queue.large:
                queue._queue.append(encoded)
                queue.next_offset = offset + 1
                if queue.sender_idle:
                    queue.sender_idle = False
                    wake_sender()
                return offset
        finally:
            if locked:
                release()
        return -1


def compile_pool_ingest(
    lanes: PoolLanes,
    route_key: Callable[[Any], int] | None,
    general: Callable[[int, Payload], Placed],
    first: int = 0,
    choose: Callable[[], int] | None = None,
) -> Callable[[Any], Placed]:
    """A pool's per-record path: by `route_key`, or (None) to the current stream, `first` to begin
    with, until its slack is used up or it cannot take a record; then `choose()` picks again.

    Every record runs this, so the stream's queue step is written out here (as in
    `Submissions.compile_ingest_one`) instead of being a call. Racing threads may each call
    `choose()`; the choice is a hint, and each thread queues under the lock of the lane it read.
    """
    encoder = lanes.encoder
    encode = encoder.encode
    direct_class: type = encoder.direct_class or _NoDirectClass
    direct_encode = encoder.direct_encode or encode
    all_lanes = lanes.lanes  # the list growth appends to
    locked = lanes.locked
    keyed = route_key is not None
    read_key = route_key or (lambda record: 0)
    queue_now, chosen = lanes.queue_now, lanes.chosen
    largest = all_lanes[first][1].large  # the same for every stream: they share one plan
    current = chosen(first)

    def elsewhere(lane: Lane, encoded: Payload) -> Placed:
        """The stream of `lane` cannot take `encoded` at once, or (no key) its slack is used up."""
        nonlocal current
        index, queue, slack = lane[0], lane[1], lane[5]
        if choose is not None and queue.next_offset + slack >= queue.window_end:
            index = choose()
            current = chosen(index)
            offset = queue_now(index, encoded)
            if offset >= 0:
                return index, offset
        return general(index, encoded)

    # The parameter is named `payload`: the official SDK's keyword for the record.
    def ingest_one(payload: Any) -> Placed:
        lane = all_lanes[read_key(payload)] if keyed else current
        if type(payload) is direct_class:
            try:
                encoded = direct_encode(payload)
            except Exception:
                encoded = encode(payload)  # raises the precise error
        else:
            encoded = encode(payload)
        index, queue, acquire, release, wake_sender, slack = lane
        if locked:
            acquire()
        try:
            offset = queue.next_offset
            if offset + slack < queue.window_end and len(encoded) <= largest:
                queue._queue.append(encoded)
                queue.next_offset = offset + 1
                if queue.sender_idle:
                    queue.sender_idle = False
                    wake_sender()
                return index, offset
        finally:
            if locked:
                release()
        return elsewhere(lane, encoded)

    return ingest_one
