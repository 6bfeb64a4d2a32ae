"""Stream stats from the engine: counts, sizes, recoveries, errors and ack latency on a scripted clock."""

from __future__ import annotations

import logging

import pytest

from tests.engine.scripted import FakeClock, ack, close_signal, drain, make_core, open_call
from zerobus.engine import StreamState
from zerobus.engine.stats import ACK_LATENCY_WINDOW, percentile
from zerobus.errors import ZerobusException

UNAVAILABLE = ZerobusException("stream failed with UNAVAILABLE: try again")


def test_a_new_stream_reports_nothing_yet(clock: FakeClock) -> None:
    stats = make_core(clock).stats()
    assert stats.table_name == "main.default.events"
    assert stats.stream_id is None and stats.state is StreamState.UNINITIALIZED
    assert (stats.ingested_records, stats.queued_records, stats.in_flight_records) == (0, 0, 0)
    assert (stats.acknowledged_records, stats.sent_requests, stats.sent_bytes, stats.acknowledged_bytes) == (
        0,
        0,
        0,
        0,
    )
    assert stats.recoveries == 0 and stats.last_error is None
    assert stats.ack_latency_p50_s is None and stats.ack_latency_p99_s is None


def test_records_move_from_queued_to_in_flight_to_acknowledged(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"aaaa")
    core.submit_many([b"bb", b"ccc"], 5)  # one submission, two records
    stats = core.stats()
    assert (stats.ingested_records, stats.queued_records, stats.in_flight_records) == (3, 3, 0)

    assert drain(core, call_id) == [(0, [b"aaaa", b"bb", b"ccc"])]
    stats = core.stats()
    assert (stats.queued_records, stats.in_flight_records, stats.acknowledged_records) == (0, 3, 0)
    assert (stats.sent_requests, stats.sent_bytes, stats.acknowledged_bytes) == (1, 9, 0)

    core.on_response(call_id, ack(0))
    stats = core.stats()
    assert (stats.queued_records, stats.in_flight_records, stats.acknowledged_records) == (0, 0, 3)
    assert stats.acknowledged_bytes == 9 and stats.state is StreamState.OPENED and stats.stream_id == "s-1"


def test_sizes_are_counted_for_requests_cut_from_a_long_queue(clock: FakeClock) -> None:
    # max_inflight 100 caps a request at 25 records: 60 records go out as 25 + 25 + 10.
    core = make_core(clock)
    call_id = open_call(core)
    for _ in range(60):
        core.submit(b"xyz")
    sent = drain(core, call_id)
    assert [len(records) for _, records in sent] == [25, 25, 10]
    stats = core.stats()
    assert (stats.sent_requests, stats.sent_bytes, stats.in_flight_records) == (3, 180, 60)
    core.on_response(call_id, ack(1))
    stats = core.stats()
    assert (stats.acknowledged_records, stats.acknowledged_bytes, stats.in_flight_records) == (50, 150, 10)


def test_sizes_are_counted_for_requests_cut_from_a_queue_of_submissions(clock: FakeClock) -> None:
    core = make_core(clock, max_batch_bytes=10)
    call_id = open_call(core)
    core.submit_many([b"aaaa", b"bbbb"], 8)
    core.submit_many([b"cccc", b"dddd"], 8)
    assert [len(records) for _, records in drain(core, call_id)] == [2, 2]
    assert core.stats().sent_bytes == 16


def test_a_recovery_is_counted_and_resends_are_queued_then_sent_again(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    core.submit(b"b")
    drain(core, call_id)
    core.on_call_ended(call_id, UNAVAILABLE)
    stats = core.stats()
    assert (stats.queued_records, stats.in_flight_records) == (2, 0)
    assert stats.last_error == UNAVAILABLE.message and stats.state is StreamState.RECOVERING
    assert stats.recoveries == 0  # not yet recovered

    call_id = open_call(core, "s-2")
    drain(core, call_id)
    stats = core.stats()
    assert (stats.recoveries, stats.stream_id, stats.queued_records, stats.in_flight_records) == (
        1,
        "s-2",
        0,
        2,
    )
    assert (stats.sent_requests, stats.sent_bytes) == (2, 4)  # the resend counts as sent again
    core.on_response(call_id, ack(0))
    stats = core.stats()
    assert (stats.acknowledged_records, stats.acknowledged_bytes) == (2, 2)  # acknowledged once
    assert stats.last_error == UNAVAILABLE.message  # the last error stays visible after recovering


def test_a_terminal_failure_is_the_last_error(clock: FakeClock) -> None:
    core = make_core(clock)
    open_call(core)
    core.submit(b"a")
    core.fail(ZerobusException("the disk is on fire"))
    stats = core.stats()
    assert stats.state is StreamState.FAILED and stats.last_error == "the disk is on fire"
    assert stats.queued_records == 1  # what get_unacked_records() returns


def test_ack_latency_is_measured_per_request_on_the_engine_clock(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    for delay in (0.010, 0.020, 0.030, 0.040):
        core.submit(b"r")
        drain(core, call_id)
        clock.advance(delay)
    # One cumulative ack covers all four requests, sent 0.1, 0.09, 0.07 and 0.04 s ago.
    core.on_response(call_id, ack(3))
    stats = core.stats()
    assert stats.ack_latency_p50_s == pytest.approx(0.07)
    assert stats.ack_latency_p99_s == pytest.approx(0.10)


def test_ack_latency_covers_only_the_latest_window_of_requests(clock: FakeClock) -> None:
    core = make_core(clock, max_inflight_records=ACK_LATENCY_WINDOW * 4)
    call_id = open_call(core)
    for slow in (True, False):
        for _ in range(ACK_LATENCY_WINDOW):
            core.submit(b"r")
            wire, _ = core.next_request(call_id) or (None, None)
            assert wire is not None
            clock.advance(5.0 if slow else 0.001)
            core.on_response(call_id, ack(wire))
    stats = core.stats()
    assert stats.ack_latency_p99_s == pytest.approx(0.001)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.99) == 3.0
    assert percentile(range(1, 101), 0.5) == 50
    assert percentile(range(1, 101), 0.99) == 99
    assert percentile([5.0, 1.0, 3.0], 0.5) == 3.0


def test_log_records_about_a_stream_carry_its_table_id_and_offsets(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    core = make_core(clock)
    with caplog.at_level(logging.DEBUG, logger="zerobus"):
        call_id = open_call(core, "s-9")
        core.submit(b"a")
        drain(core, call_id)
        core.submit(b"b")
        drain(core, call_id)
        core.on_response(call_id, ack(0))
        core.on_call_ended(call_id, UNAVAILABLE)
        open_call(core, "s-10")
    records = caplog.records
    assert len(records) >= 3  # opened, recovery attempt, recovered
    assert all(r.zerobus_table == "main.default.events" for r in records)  # type: ignore[attr-defined]
    opened, recovered = records[0], records[-1]
    assert (opened.zerobus_stream_id, opened.zerobus_offset, opened.zerobus_durable_offset) == ("s-9", -1, -1)  # type: ignore[attr-defined]
    assert (recovered.zerobus_stream_id, recovered.zerobus_offset, recovered.zerobus_durable_offset) == (  # type: ignore[attr-defined]
        "s-10",
        1,
        0,
    )


def test_a_close_signal_rotation_counts_as_a_recovery_without_an_error(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.on_response(call_id, close_signal(0))
    core.on_call_ended(call_id, None)
    open_call(core, "s-2")
    stats = core.stats()
    assert (stats.recoveries, stats.last_error, stats.stream_id) == (1, None, "s-2")


def test_json_sizes_are_counted_in_characters_as_the_engine_batches_them(clock: FakeClock) -> None:
    core = make_core(clock, record_type=2, descriptor_proto=None)
    call_id = open_call(core)
    core.submit('{"name":"\u00e9t\u00e9"}')  # 14 characters, 16 bytes of UTF-8
    drain(core, call_id)
    core.on_response(call_id, ack(0))
    assert core.stats().acknowledged_bytes == 14
