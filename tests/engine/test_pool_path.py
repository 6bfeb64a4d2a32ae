"""A stream pool's compiled per-record path (`zerobus.engine.pool_path`) over real submission queues."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.engine.scripted import BASE_CONFIG
from tests.engine.test_ingest_path import Encoder, Point, Wakes
from zerobus.engine import MAX_REQUEST_BYTES, Submissions
from zerobus.engine.pool_path import PoolLanes, compile_pool_ingest
from zerobus.errors import InvalidRecordError

Placed = tuple[int, int]
LOCKING = pytest.mark.parametrize("locked", [True, False], ids=["sync", "asyncio"])


class Pool:
    """`streams` real submission queues behind one `PoolLanes`, and a log of the driver's calls."""

    def __init__(self, streams: int, locked: bool, max_inflight: int = 100, encoder: Encoder | None = None):
        self.encoder = encoder or Encoder()
        self.lanes = PoolLanes(self.encoder, locked)
        self.queues = [
            Submissions(replace(BASE_CONFIG, max_inflight_records=max_inflight)) for _ in range(streams)
        ]
        self.locks = [threading.Lock() if locked else None for _ in range(streams)]
        self.wakes = [Wakes(lock) for lock in self.locks]
        for queue, lock, wake in zip(self.queues, self.locks, self.wakes, strict=True):
            self.lanes.add(queue, lock, wake)
        self.general_calls: list[tuple[int, bytes | str]] = []
        self.choices: list[int] = []

    def general(self, index: int, encoded: bytes | str) -> Placed:
        """The driver's waiting path, as the asyncio driver's: the record parked, offset -1."""
        self.general_calls.append((index, encoded))
        return index, -1

    def chooser(self, order: list[int]) -> Callable[[], int]:
        """A `choose()` naming the streams of `order` in turn (the pool core's choice, scripted)."""

        def choose() -> int:
            index = order[len(self.choices) % len(order)]
            self.choices.append(index)
            return index

        return choose

    def queued(self, index: int) -> list[bytes | str]:
        return [payload for payload in self.queues[index].entries() if isinstance(payload, (bytes, str))]


@LOCKING
def test_records_stay_on_the_current_stream_until_half_its_window_is_unacknowledged(locked: bool) -> None:
    pool = Pool(3, locked, max_inflight=8)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 1, pool.chooser([2, 0]))
    placed = [ingest(Point(i)) for i in range(10)]
    assert placed == [(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3), (0, 0), (0, 1)]
    assert pool.choices == [2, 0]
    assert pool.queued(1) == [b"p0", b"p1", b"p2", b"p3"]
    assert pool.general_calls == []


@LOCKING
def test_a_stream_that_keeps_up_keeps_the_records(locked: bool) -> None:
    pool = Pool(2, locked, max_inflight=8)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1]))
    for i in range(100):
        assert ingest(Point(i)) == (0, i)
        pool.queues[0].acknowledged(1)  # acknowledged as fast as it is ingested
    assert pool.choices == [] and pool.queues[1].next_offset == 0


@LOCKING
def test_records_of_other_calls_count_toward_the_half_window(locked: bool) -> None:
    pool = Pool(2, locked, max_inflight=8)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1]))
    assert ingest(Point(0)) == (0, 0)
    pool.queues[0].add_many([b"x", b"y"], 2)  # a batch on the same stream: two records, one offset
    assert ingest(Point(1)) == (0, 2)
    assert ingest(Point(2)) == (1, 0)  # stream 0 holds 4 unacknowledged records: half its window


@LOCKING
def test_a_stream_chosen_past_half_is_filled_and_full_streams_go_to_the_general_path(locked: bool) -> None:
    pool = Pool(2, locked, max_inflight=4)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1, 0, 1, 0]))
    placed = [ingest(Point(i)) for i in range(8)]
    assert placed == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    assert pool.choices == [1, 0, 1]  # past half, each chosen stream took its full window
    assert ingest(Point(8)) == (0, -1)  # all full: the chosen stream's general path (it waits)
    assert pool.general_calls == [(0, b"p8")]  # encoded once, handed over encoded
    assert [q.next_offset for q in pool.queues] == [4, 4]


@LOCKING
def test_a_stream_that_stopped_taking_records_gets_none(locked: bool) -> None:
    pool = Pool(3, locked)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([2]))
    assert ingest(Point(0)) == (0, 0)
    pool.queues[0].stop_accepting()  # failed or closing
    assert ingest(Point(1)) == (2, 0)
    assert pool.queued(0) == [b"p0"] and pool.general_calls == []


@LOCKING
def test_a_record_too_large_for_the_direct_path_goes_to_the_current_streams_general_path(
    locked: bool,
) -> None:
    class Big(Encoder):
        def __init__(self) -> None:
            super().__init__()
            self.direct_class = self.direct_encode = None

        def encode(self, record: object) -> bytes:
            assert isinstance(record, int)
            return b"x" * record

    pool = Pool(2, locked, encoder=Big())
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1]))
    assert ingest(10) == (0, 0)
    assert ingest(MAX_REQUEST_BYTES) == (0, -1)  # the general path checks it against the limit
    assert pool.choices == [] and [len(e) for _, e in pool.general_calls] == [MAX_REQUEST_BYTES]


@LOCKING
def test_the_sender_of_the_stream_written_is_woken_under_its_lock(locked: bool) -> None:
    pool = Pool(2, locked, max_inflight=4)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1]))
    pool.queues[0].sender_sleeps()
    pool.queues[1].sender_sleeps()
    for i in range(4):
        ingest(Point(i))
    assert [w.count for w in pool.wakes] == [1, 1]
    if locked:
        assert [w.lock_held for w in pool.wakes] == [[True], [True]]


@LOCKING
def test_an_invalid_record_queues_nothing_and_names_its_field(locked: bool) -> None:
    pool = Pool(2, locked)
    ingest = compile_pool_ingest(pool.lanes, None, pool.general, 0, pool.chooser([1]))
    keyed = compile_pool_ingest(pool.lanes, lambda record: 1, pool.general)
    for path in (ingest, keyed):
        with pytest.raises(InvalidRecordError) as refused:
            path(Point(-1))
        assert refused.value.field == "x" and "must not be negative" in str(refused.value)
    assert [q.next_offset for q in pool.queues] == [0, 0]
    assert all(lock is None or not lock.locked() for lock in pool.locks)
    assert ingest({"v": "ok"}) == (0, 0)  # a record without a direct encoding


@LOCKING
def test_a_keyed_path_keeps_each_record_on_its_keys_stream_even_when_full(locked: bool) -> None:
    pool = Pool(2, locked, max_inflight=2)
    ingest = compile_pool_ingest(pool.lanes, lambda record: record.x % 2, pool.general)
    placed = [ingest(Point(i)) for i in range(6)]
    assert placed == [(0, 0), (1, 0), (0, 1), (1, 1), (0, -1), (1, -1)]
    assert pool.general_calls == [(0, b"p4"), (1, b"p5")]  # waits on its own stream, never another


def test_lanes_match_the_drivers_locking() -> None:
    lanes = PoolLanes(Encoder(), locked=True)
    with pytest.raises(ValueError, match="locked=True"):
        lanes.add(Submissions(BASE_CONFIG), None, lambda: None)


def test_threads_racing_through_switches_queue_every_record_once_in_offset_order() -> None:
    pool = Pool(4, locked=True, max_inflight=74)
    turns = itertools.count(1)

    def acked(index: int) -> Submissions:
        """Stream `index` with everything it holds acknowledged (as if its acks just came)."""
        queue = pool.queues[index]
        lock = pool.locks[index]
        assert lock is not None
        with lock:
            queue.acknowledged(queue.unacked_count)
        return queue

    def choose() -> int:
        index = next(turns) % 4
        acked(index)
        return index

    def general(index: int, encoded: bytes | str) -> Placed:  # the sync driver waits for room
        queue = acked(index)
        lock = pool.locks[index]
        assert lock is not None
        with lock:
            return index, queue.add(encoded)

    ingest = compile_pool_ingest(pool.lanes, None, general, 0, choose)
    placed: list[list[Placed]] = [[] for _ in range(4)]

    def worker(n: int) -> None:
        for i in range(5000):
            placed[n].append(ingest(Point(n * 10_000 + i)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [where for part in placed for where in part]
    assert len(set(everything)) == 20_000 and all(offset >= 0 for _, offset in everything)
    assert len({stream for stream, _ in everything}) == 4
    for index in range(4):  # each stream's queue holds its offsets' records, in offset order
        offsets = sorted(offset for stream, offset in everything if stream == index)
        assert offsets == list(range(len(offsets))) == list(range(pool.queues[index].next_offset))
    expected = sorted(b"p%d" % (n * 10_000 + i) for n in range(4) for i in range(5000))
    assert sorted(payload for index in range(4) for payload in pool.queued(index)) == expected
