"""The stream pool's decisions without I/O: key hashing, least-loaded routing, growth on a scripted clock."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import logging
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

import pytest

from zerobus.engine import EngineConfig, Submissions
from zerobus.errors import ConfigurationError, InvalidRecordError, ZerobusException
from zerobus.sdk.shared.pool_core import (
    PoolCore,
    PoolGrowth,
    PoolLanes,
    check_pool_offset,
    pool_layout,
)
from zerobus.sdk.shared.pool_keys import jump_hash, key_bytes, key_reader, stable_key_hash


@dataclass
class Gauge:
    """A stream's engine as the pool core sees it, set by the test."""

    next_offset: int = 0
    window_end: int = 100
    max_inflight: int = 100
    failure: ZerobusException | None = None
    unacked_count: int = 0
    acked_records: int = 0


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


# --- keys -------------------------------------------------------------------------------------------


def test_key_hash_is_the_same_in_every_process() -> None:
    """Python's hash() of a str changes per process; the pool's key hash must not."""
    code = (
        "from zerobus.sdk.shared.pool_keys import stable_key_hash;"
        "print(stable_key_hash('device-7'), stable_key_hash(('a', 1)), stable_key_hash(b'x'))"
    )
    outputs = set()
    for seed in ("1", "2", "random"):
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, PYTHONHASHSEED=seed),
        )
        outputs.add(result.stdout.strip())
    here = f"{stable_key_hash('device-7')} {stable_key_hash(('a', 1))} {stable_key_hash(b'x')}"
    assert outputs == {here}
    # Pinned: records already routed by one release go to the same stream in the next.
    assert stable_key_hash("device-7") == int.from_bytes(
        hashlib.blake2b(b"sdevice-7", digest_size=8).digest(), "big"
    )


@pytest.mark.parametrize(
    "equal_values",
    [
        (1, 1.0, True, decimal.Decimal("1"), decimal.Decimal("1.000")),
        (0.5, decimal.Decimal("0.5")),
        (decimal.Decimal("0.10"), decimal.Decimal("0.1")),
        (
            dt.datetime(2026, 1, 1, 12, tzinfo=dt.timezone.utc),
            dt.datetime(2026, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        ),
        (("a", 1), ("a", 1.0)),
    ],
)
def test_values_python_treats_as_equal_hash_alike(equal_values: tuple[object, ...]) -> None:
    assert len({value for value in equal_values}) == 1  # equal for Python...
    assert len({key_bytes(value) for value in equal_values}) == 1  # ...and for the pool


@pytest.mark.parametrize(
    "different",
    [
        ("1", 1),
        (b"a", "a"),
        (None, "None"),
        (dt.date(2026, 1, 1), dt.datetime(2026, 1, 1)),
        (("a", "b"), ("ab",)),
    ],
)
def test_different_values_hash_apart(different: tuple[object, object]) -> None:
    first, second = different
    assert key_bytes(first) != key_bytes(second)


def test_every_supported_key_kind_hashes() -> None:
    for value in (None, -3, 2**80, "é", b"\x00", 1.5, float("nan"), dt.time(1, 2), uuid.UUID(int=7)):
        assert 0 <= stable_key_hash(value) < 2**64


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, object(), {1, 2}])
def test_a_key_without_a_stable_hash_is_refused_naming_the_field(value: object) -> None:
    with pytest.raises(InvalidRecordError, match=r"field 'device'.*no stable hash"):
        key_bytes(value, "device")


def test_jump_hash_spreads_and_moves_few_keys_when_streams_are_added() -> None:
    keys = [stable_key_hash(f"key-{i}") for i in range(4000)]
    four = [jump_hash(k, 4) for k in keys]
    assert all(400 < four.count(b) < 1600 for b in range(4))
    five = [jump_hash(k, 5) for k in keys]
    moved = sum(a != b for a, b in zip(four, five, strict=True))
    assert all(b == 4 for a, b in zip(four, five, strict=True) if a != b)  # only to the new stream
    assert moved < 4000 * 0.3
    with pytest.raises(ValueError, match="buckets"):
        jump_hash(1, 0)


def test_key_readers_name_the_field_and_reason() -> None:
    read = key_reader("device")
    assert read({"device": "a"}) == "a"
    assert read('{"device": "j"}') == "j"

    @dataclass
    class Reading:
        device: str

    assert read(Reading("r")) == "r"
    with pytest.raises(InvalidRecordError, match=r"field 'device'.*missing"):
        read({"other": 1})
    with pytest.raises(InvalidRecordError, match=r"field 'device'.*encoded bytes.*key=<callable>"):
        read(b"\x08\x01")
    with pytest.raises(InvalidRecordError, match=r"field 'device'.*not an attribute of int"):
        read(5)
    with pytest.raises(InvalidRecordError, match=r"field 'device'.*cannot be read"):
        read("{not json")
    assert key_reader(len)("abc") == 3
    for bad in ("", 5, None):
        with pytest.raises(ConfigurationError, match="key must be a field name or a callable"):
            key_reader(bad)  # type: ignore[arg-type]


# --- layout and offsets -----------------------------------------------------------------------------


def test_pool_layout_checks_its_arguments() -> None:
    assert pool_layout(3, None, None) == (3, None)
    assert pool_layout("auto", None, None) == (1, PoolGrowth())
    for bad in (0, -1, "many", 2.5, True, None):
        with pytest.raises(ConfigurationError, match="streams must be an integer >= 1 or 'auto'"):
            pool_layout(bad, None, None)
    with pytest.raises(ConfigurationError, match="cannot be combined with key="):
        pool_layout("auto", "device", None)
    with pytest.raises(ConfigurationError, match="growth= applies only"):
        pool_layout(2, None, PoolGrowth())
    with pytest.raises(ConfigurationError, match="key must be"):
        pool_layout(2, 42, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_streams", 0), ("windows", 0), ("stream_records_per_s", 0), ("window_s", -1.0), ("at_limit", 1.5)],
)
def test_pool_growth_refuses_bad_values_naming_them(field: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"PoolGrowth.{field}"):
        PoolGrowth(**{field: value})  # type: ignore[arg-type]


def test_pool_offsets_are_checked() -> None:
    assert check_pool_offset((1, 7), 2) == (1, 7)
    for bad in (3, (2, 0), (-1, 0), ("0", 1), (0, 1, 2)):
        with pytest.raises(ValueError, match=r"pool offset"):
            check_pool_offset(bad, 2)


# --- routing ----------------------------------------------------------------------------------------


def test_unkeyed_records_stick_to_a_stream_until_half_its_window_is_used_then_move() -> None:
    gauges = [Gauge(unacked_count=50), Gauge(unacked_count=10), Gauge(unacked_count=30)]
    core = PoolCore(gauges, None, None, Clock())
    assert {core.route(None) for _ in range(100)} == {0}  # the first stream, until half full
    gauges[0].next_offset = 50  # half of its window of 100 is in use
    assert core.route(None) == 1  # rebalanced: the least loaded
    gauges[1].next_offset = gauges[1].window_end  # its window is full now
    assert core.route(None) == 2
    gauges[2].window_end = 200  # acknowledged: a stream that keeps up keeps the records
    assert {core.route(None) for _ in range(100)} == {2}


def test_a_failed_or_closing_stream_gets_no_records() -> None:
    gauges = [Gauge(unacked_count=0), Gauge(unacked_count=40)]
    core = PoolCore(gauges, None, None, Clock())
    gauges[0].window_end = -1  # failed: the engine stops accepting
    gauges[0].failure = ZerobusException("gone")
    assert {core.route(None) for _ in range(1000)} == {1}
    assert core.may_reroute(0)
    assert not core.may_reroute(1)
    assert core.reroute() == 1
    gauges[1].window_end = -1
    assert not core.may_reroute(0)  # nowhere else to go: the stream's own error is the answer


def test_keyed_records_always_reach_their_stream_and_are_never_rerouted() -> None:
    gauges = [Gauge(), Gauge(), Gauge()]
    core = PoolCore(gauges, "device", None, Clock())
    first = {f"d{i}": core.route({"device": f"d{i}"}) for i in range(50)}
    assert set(first.values()) == {0, 1, 2}
    gauges[0].unacked_count = 99  # load does not move a key
    for _ in range(3):
        assert {d: core.route({"device": d}) for d in first} == first
    assert first["d1"] == jump_hash(stable_key_hash("d1"), 3)
    gauges[first["d1"]].window_end = -1
    assert not core.may_reroute(first["d1"])
    groups = core.route_batch([{"device": f"d{i}", "n": i} for i in range(10)])
    for index, records in groups:
        assert all(first[r["device"]] == index for r in records)
    for _, records in groups:  # each stream's part keeps the batch's order
        assert [r["n"] for r in records] == sorted(r["n"] for r in records)
    assert sum(len(records) for _, records in groups) == 10


def test_an_unkeyed_batch_goes_to_one_stream() -> None:
    core = PoolCore([Gauge(), Gauge()], None, None, Clock())
    records = list(range(10))
    assert core.route_batch(records) == [(0, records)]
    assert core.route_batch([]) == []


# --- growth -----------------------------------------------------------------------------------------


def _saturate(gauges: list[Gauge], per_stream: int) -> None:
    """Every stream acknowledged `per_stream` more, its window full (each route chooses again)."""
    for gauge in gauges:
        gauge.acked_records += per_stream
        gauge.unacked_count = gauge.max_inflight
        gauge.next_offset = gauge.window_end


def test_growth_when_every_stream_sits_at_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    gauges = [Gauge()]
    growth = PoolGrowth(max_streams=3, stream_records_per_s=1000, window_s=1.0, windows=2)
    core = PoolCore(gauges, None, growth, clock, "main.default.t")

    def after_window(per_stream: int) -> bool:
        clock.now += 1.0
        _saturate(gauges, per_stream)
        return core.route(None) < 0  # a choice looks at growth too

    assert not after_window(1000)  # one window at the limit is not yet enough
    with caplog.at_level(logging.INFO, logger="zerobus.sdk.shared.pool_core"):
        assert after_window(1000)
    assert "opening stream 2 of at most 3" in caplog.text
    assert "1000 records/s" in caplog.text
    assert core.growing
    assert not after_window(1000)  # one opening at a time
    gauges.append(Gauge())
    core.growth_done(gauges[-1])
    assert core.stream_count == 2
    assert not after_window(1000)
    assert after_window(1000)
    gauges.append(Gauge())
    core.growth_done(gauges[-1])
    for _ in range(4):
        assert not after_window(1000)  # at max_streams: never more


def test_no_growth_below_the_limit_without_backlog_or_after_a_failed_opening() -> None:
    clock = Clock()
    gauges = [Gauge(), Gauge()]
    core = PoolCore(gauges, None, PoolGrowth(stream_records_per_s=1000, windows=1), clock)

    def window(per_stream: int, fill: int) -> bool:
        clock.now += 1.0
        for gauge in gauges:
            gauge.acked_records += per_stream
            gauge.unacked_count = fill
            gauge.next_offset = gauge.window_end  # each route chooses again
        return core.route(None) < 0

    assert not window(500, 100)  # half the limit: the service is not what holds it back
    assert not window(1000, 10)  # at the limit but nothing waits: the producer is the limit
    assert window(1000, 100)
    core.growth_done(None)  # the opening failed: ask again only after a new window
    assert not core.growing
    assert core.route(None) >= 0  # the new window has only just started
    assert window(1000, 100)


def test_a_pool_without_growth_never_asks_for_streams() -> None:
    clock = Clock()
    gauges = [Gauge()]
    core = PoolCore(gauges, None, None, clock)
    for _ in range(5):
        clock.now += 10
        _saturate(gauges, 10**6)
        assert core.route(None) == 0


def test_the_compiled_route_makes_the_same_choices() -> None:
    gauges = [Gauge(unacked_count=50), Gauge(unacked_count=10), Gauge(unacked_count=30)]
    core = PoolCore(gauges, None, None, Clock())
    route = core.compile_route()
    assert {route(None) for _ in range(100)} == {0}
    gauges[0].next_offset = 50
    assert route(None) == 1
    gauges[1].next_offset = gauges[1].window_end
    assert route(None) == 2
    gauges[2].window_end = -1  # failed
    assert route(None) == 0
    keyed = PoolCore([Gauge(), Gauge()], "k", None, Clock())
    compiled = keyed.compile_route()
    assert all(compiled({"k": i}) == keyed.route({"k": i}) for i in range(100))


def test_the_compiled_route_asks_for_growth() -> None:
    clock = Clock()
    gauges = [Gauge()]
    core = PoolCore(gauges, None, PoolGrowth(stream_records_per_s=100, windows=1), clock)
    route = core.compile_route()
    clock.now += 1.0
    _saturate(gauges, 100)
    gauges[0].next_offset = gauges[0].window_end  # full: the route re-chooses now
    assert route(None) == ~0
    assert core.growing


class TextEncoder:
    """Encodes any record as its text (no direct class): enough for routing."""

    direct_class = None
    direct_encode = None

    def encode(self, record: object) -> bytes:
        return f"enc:{record}".encode()


def _queues(count: int, max_inflight: int = 100) -> tuple[list[Submissions], PoolLanes]:
    queues = [Submissions(EngineConfig("t", 1, max_inflight_records=max_inflight)) for _ in range(count)]
    lanes = PoolLanes(TextEncoder(), locked=False)
    for queue in queues:
        lanes.add(queue, None, lambda: None)
    return queues, lanes


def test_the_compiled_ingest_path_goes_to_the_least_loaded_stream_and_hands_waits_over() -> None:
    queues, lanes = _queues(3, max_inflight=4)
    core = PoolCore(queues, None, None, Clock())
    waits: list[tuple[int, bytes | str]] = []

    def general(index: int, encoded: bytes | str) -> tuple[int, int]:
        waits.append((index, encoded))
        return index, -1

    ingest = core.compile_ingest_one(lanes, general, lambda: None)
    queues[1].add(b"earlier")  # stream 1 carries one record already: 2 is less loaded
    assert [ingest(i) for i in range(3)] == [(0, 0), (0, 1), (2, 0)]  # half of 0's window: move
    queues[2].stop_accepting()  # stream 2 failed: the others only
    assert ingest(3) == (1, 1)
    assert [ingest(i) for i in range(4, 6)] == [(0, 2), (0, 3)]  # every stream past half: fill it
    assert [ingest(i) for i in range(6, 8)] == [(1, 2), (1, 3)]
    assert ingest(8) == (0, -1)  # all full: wait on the least loaded
    assert waits == [(0, b"enc:8")]


def test_the_compiled_ingest_path_opens_a_stream_when_growth_is_due() -> None:
    clock = Clock()
    queues, lanes = _queues(1, max_inflight=2)
    core = PoolCore(queues, None, PoolGrowth(stream_records_per_s=1, windows=1), clock)
    grown: list[int] = []
    ingest = core.compile_ingest_one(lanes, lambda index, encoded: (index, -1), lambda: grown.append(1))
    assert [ingest(i) for i in range(2)] == [(0, 0), (0, 1)]
    queues[0].acknowledged(1)  # acknowledged at the limit, window full again after the next
    clock.now += 1.0
    assert ingest(2) == (0, 2)
    assert ingest(3) == (0, -1) and grown == [1] and core.growing


def test_the_compiled_keyed_path_follows_the_key() -> None:
    queues, lanes = _queues(3)
    core = PoolCore(queues, "k", None, Clock())
    ingest = core.compile_ingest_one(lanes, lambda index, encoded: (index, -1), lambda: None)
    for i in range(60):
        record = {"k": f"key-{i % 9}"}
        assert ingest(record)[0] == core.route(record)
