"""The Arrow stream's bookkeeping without I/O: offsets, cumulative acks, the window, replays."""

from __future__ import annotations

import pytest

from zerobus.engine.arrow_ledger import AckOutOfRange, ArrowLedger


def test_offsets_are_logical_and_acks_cumulative() -> None:
    ledger: ArrowLedger[str] = ArrowLedger(max_inflight=10)
    generation, replay = ledger.start_call()
    assert replay == []
    assert [ledger.add(name, 2) for name in "abc"] == [(0, 0), (1, 1), (2, 2)]
    assert ledger.on_ack(generation, -1) == 0  # the ready signal acknowledges nothing
    assert ledger.on_ack(generation, 1) == 2
    assert ledger.is_acked(1) and not ledger.is_acked(2)
    assert ledger.unacked() == ["c"] and ledger.acked_rows == 4
    assert ledger.on_ack(generation, 1) == 0  # a repeated ack changes nothing


def test_window_limits_unacknowledged_batches() -> None:
    ledger: ArrowLedger[int] = ArrowLedger(max_inflight=2)
    generation, _ = ledger.start_call()
    ledger.add(0, 1)
    assert ledger.has_room()
    ledger.add(1, 1)
    assert not ledger.has_room()
    ledger.on_ack(generation, 0)
    assert ledger.has_room() and ledger.inflight == 1


def test_new_call_replays_unacknowledged_batches_in_order_renumbered_from_zero() -> None:
    ledger: ArrowLedger[str] = ArrowLedger(max_inflight=10)
    first, _ = ledger.start_call()
    for name in "abcd":
        ledger.add(name, 1)
    ledger.on_ack(first, 1)
    second, replay = ledger.start_call()
    assert [(physical, pending.offset, pending.payload) for physical, pending in replay] == [
        (0, 2, "c"),
        (1, 3, "d"),
    ]
    assert ledger.add("e", 1) == (4, 2)  # new batches follow the replay on the new call
    assert ledger.on_ack(first, 3) == 0  # the old call's acks are stale
    assert ledger.on_ack(second, 1) == 2
    assert ledger.acked_through == 3 and ledger.unacked() == ["e"]


def test_an_ack_beyond_what_was_sent_is_refused() -> None:
    ledger: ArrowLedger[str] = ArrowLedger(max_inflight=10)
    generation, _ = ledger.start_call()
    ledger.add("a", 1)
    with pytest.raises(AckOutOfRange, match="acknowledged offset 1 of this call, but only offsets up to 0"):
        ledger.on_ack(generation, 1)
    assert ledger.unacked() == ["a"]


def test_window_must_hold_a_batch() -> None:
    with pytest.raises(ValueError, match="max_inflight must be >= 1"):
        ArrowLedger(max_inflight=0)
