"""The compiled per-record ingest path (`Submissions.compile_ingest_one`), driven without sockets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.engine.scripted import FakeClock, ack, drain, make_core, open_call
from zerobus.engine import MAX_REQUEST_BYTES, StreamCore
from zerobus.errors import InvalidRecordError, NonRetriableException


class Point:
    """A record class with a direct encoder, as a PROTO stream's message class has."""

    def __init__(self, x: int) -> None:
        self.x = x

    def serialize(self) -> bytes:
        if self.x < 0:
            raise ValueError("x must not be negative")  # like protobuf's EncodeError
        return b"p%d" % self.x


class Encoder:
    """Encodes Points directly and dicts through `encode`, which also explains refusals."""

    def __init__(self) -> None:
        self.direct_class: type | None = Point
        self.direct_encode: Callable[[Any], bytes] | None = Point.serialize
        self.general_calls = 0

    def encode(self, record: Any) -> bytes:
        self.general_calls += 1
        if isinstance(record, Point):
            if record.x < 0:
                raise InvalidRecordError("x", record.x, "must not be negative")
            return record.serialize()
        if isinstance(record, dict):
            return b"d" + bytes(record["v"], "utf-8")
        raise InvalidRecordError("", record, "not a record")


class Wakes:
    def __init__(self, lock: threading.Lock | None = None) -> None:
        self.count = 0
        self.lock_held: list[bool] = []
        self.lock = lock

    def __call__(self) -> None:
        self.count += 1
        if self.lock is not None:
            self.lock_held.append(self.lock.locked())


def _fallback_log() -> tuple[list[Any], Callable[[Any], int]]:
    seen: list[Any] = []

    def fallback(payload: Any) -> int:
        seen.append(payload)
        return 1000 + len(seen)

    return seen, fallback


@pytest.mark.parametrize("lock", [threading.Lock(), None], ids=["sync", "asyncio"])
def test_records_go_straight_into_the_queue_with_offsets_in_order(
    clock: FakeClock, lock: threading.Lock | None
) -> None:
    core = make_core(clock)
    encoder = Encoder()
    ingest = core.submissions.compile_ingest_one(encoder, lock, Wakes())
    assert [ingest(Point(1)), ingest({"v": "a"}), ingest(Point(2))] == [0, 1, 2]
    assert encoder.general_calls == 1  # only the dict needed the general encoder
    call_id = open_call(core)
    assert drain(core, call_id) == [(0, [b"p1", b"da", b"p2"])]
    assert core.submissions.next_offset == 3 and core.unacked_count == 3


def test_the_sender_is_woken_once_under_the_lock_when_it_sleeps(clock: FakeClock) -> None:
    core = make_core(clock)
    lock = threading.Lock()
    wakes = Wakes(lock)
    ingest = core.submissions.compile_ingest_one(Encoder(), lock, wakes)
    ingest(Point(1))
    assert wakes.count == 0  # the sender was not asleep
    core.sender_sleeps()
    ingest(Point(2))
    ingest(Point(3))
    assert wakes.count == 1 and wakes.lock_held == [True]
    assert core.claim_idle_sender() is False  # the drivers' other paths claim the same flag
    core.sender_sleeps()
    assert core.claim_idle_sender() is True
    assert core.claim_idle_sender() is False
    core.sender_sleeps()
    core.sender_woke()  # woke on its own (new work seen, call ended): nobody needs to wake it
    assert core.claim_idle_sender() is False


def test_a_full_window_hands_the_encoded_record_to_the_fallback(clock: FakeClock) -> None:
    core = make_core(clock, max_inflight_records=2)
    seen, fallback = _fallback_log()
    ingest = core.submissions.compile_ingest_one(Encoder(), threading.Lock(), Wakes(), fallback)
    assert ingest(Point(1)) == 0
    assert ingest(Point(2)) == 1
    assert ingest(Point(3)) == 1001  # what the fallback (the driver's waiting path) returned
    assert seen == [b"p3"] and core.submissions.next_offset == 2  # not queued by the direct path
    call_id = open_call(core)
    drain(core, call_id)
    core.on_response(call_id, ack(0))
    assert ingest(Point(4)) == 2  # the window moved: direct again


def test_without_a_fallback_nothing_is_queued_and_the_answer_is_minus_one(clock: FakeClock) -> None:
    core = make_core(clock, max_inflight_records=1)
    ingest = core.submissions.compile_ingest_one(Encoder(), threading.Lock(), Wakes())
    assert ingest(Point(1)) == 0
    assert ingest(Point(2)) == -1
    assert core.submissions.next_offset == 1 and core.unacked_count == 1


def test_a_closing_or_failed_stream_sends_every_record_to_the_general_path(clock: FakeClock) -> None:
    core = make_core(clock)
    seen, fallback = _fallback_log()
    ingest = core.submissions.compile_ingest_one(Encoder(), threading.Lock(), Wakes(), fallback)
    call_id = open_call(core)
    ingest(Point(1))
    drain(core, call_id)
    core.begin_close()
    ingest(Point(2))
    core.on_response(call_id, ack(0))  # an ack after the close must not reopen the direct path
    ingest(Point(3))
    assert seen == [b"p2", b"p3"]
    with pytest.raises(NonRetriableException, match="closed"):
        core.submit(seen[0])  # what the general path does with them


def test_records_near_the_request_limit_take_the_checked_path(clock: FakeClock) -> None:
    core = make_core(clock)
    seen, fallback = _fallback_log()

    class Big(Encoder):
        def __init__(self) -> None:
            super().__init__()
            self.direct_class = self.direct_encode = None

        def encode(self, record: Any) -> bytes:
            return b"x" * record

    ingest = core.submissions.compile_ingest_one(Big(), threading.Lock(), Wakes(), fallback)
    assert ingest(100) == 0
    ingest(MAX_REQUEST_BYTES)
    assert [len(payload) for payload in seen] == [MAX_REQUEST_BYTES]
    with pytest.raises(NonRetriableException, match="rejects requests above"):
        core.submit(seen[0])


def test_a_refused_direct_record_gets_the_encoders_precise_error_and_nothing_changes(
    clock: FakeClock,
) -> None:
    core = make_core(clock)
    lock = threading.Lock()
    ingest = core.submissions.compile_ingest_one(Encoder(), lock, Wakes())
    with pytest.raises(InvalidRecordError) as refused:
        ingest(Point(-1))
    assert refused.value.field == "x" and "must not be negative" in str(refused.value)
    assert core.submissions.next_offset == 0 and core.unacked_count == 0
    assert lock.acquire(blocking=False)  # the lock was never left held
    lock.release()
    assert ingest(Point(5)) == 0


def test_many_threads_get_distinct_offsets_and_every_record_is_queued_once(clock: FakeClock) -> None:
    core: StreamCore = make_core(clock, max_inflight_records=100_000)
    lock = threading.Lock()
    ingest = core.submissions.compile_ingest_one(Encoder(), lock, Wakes())
    offsets: list[list[int]] = [[] for _ in range(8)]

    def worker(n: int) -> None:
        for i in range(2000):
            offsets[n].append(ingest(Point(n * 10_000 + i)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = sorted(offset for chunk in offsets for offset in chunk)
    assert every == list(range(16_000))
    for chunk in offsets:
        assert chunk == sorted(chunk)  # each thread's records keep their order
    call_id = open_call(core)
    sent = [record for _, records in drain(core, call_id) for record in records]
    assert len(sent) == len(set(sent)) == 16_000
