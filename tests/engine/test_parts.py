"""The engine's parts on their own: submissions, the ack ledger, the call lifecycle, the status."""

from __future__ import annotations

import pytest

from tests.engine.scripted import BASE_CONFIG, Recorder
from zerobus.engine import AckLedger, CallLifecycle, Expired, Submissions
from zerobus.engine.state import StreamState
from zerobus.engine.status import StreamStatus
from zerobus.errors import NonRetriableException, ZerobusException


def test_submissions_hand_out_offsets_and_keep_the_window() -> None:
    queue = Submissions(BASE_CONFIG)  # max_inflight_records=100
    assert queue.add(b"a") == 0
    assert queue.add_many([b"b", b"c"], 2) == 1
    assert (queue.next_offset, queue.unacked_count, queue.queued_records) == (2, 3, 3)
    assert queue.window_end == 99  # the batch's extra record takes one place in the window
    batch = queue.take_batch()
    assert batch is not None and batch.records == [b"a", b"b", b"c"] and batch.last_offset == 1
    assert queue.take_batch() is None and queue.queued_records == 0
    queue.acknowledged(3)
    assert queue.unacked_count == 0 and queue.window_end == 102
    queue.stop_accepting()
    assert queue.window_end == -1 and not queue.accepting
    queue.acknowledged(0)
    assert queue.window_end == -1  # acks never reopen a stream that stopped taking records


def test_the_sender_flag_is_claimed_once() -> None:
    queue = Submissions(BASE_CONFIG)
    assert not queue.claim_idle_sender()
    queue.sender_sleeps()
    assert queue.claim_idle_sender() and not queue.claim_idle_sender()


def test_the_ledger_numbers_requests_per_call_and_resends_in_order() -> None:
    queue = Submissions(BASE_CONFIG)
    ledger = AckLedger()
    for payload in (b"a", b"b", b"c"):
        queue.add(payload)
        batch = ledger.next_batch(queue)
        assert batch is not None
        ledger.sent(batch, now=1.0)
    assert ledger.requests_in_flight == 3 and ledger.requests_covered(0) == 1
    acked = ledger.acknowledge(1, now=1.5)
    assert (acked.first, acked.last, acked.records) == (0, 0, 1) and ledger.durable_offset == 0
    ledger.call_ended()  # b and c wait for the next call, before anything new
    queue.add(b"d")
    ledger.new_call()
    resent = [ledger.next_batch(queue) for _ in range(3)]
    assert [b.records if b else None for b in resent] == [[b"b"], [b"c"], [b"d"]]
    wires = [ledger.sent(b, now=2.0)[0] for b in resent if b is not None]
    assert wires == [0, 1, 2]
    assert ledger.requests_covered(5) == 6  # more than was sent: the engine clips and warns
    assert ledger.acknowledge(3, now=2.5).last == 3


def test_the_call_lifecycle_reports_which_deadline_passed() -> None:
    call = CallLifecycle()
    call_id = call.begin(now=10.0, creation_timeout_s=5.0)
    assert call.deadline() == 15.0 and call.expired(14.9) is None
    assert call.expired(15.0) is Expired.CREATION
    call.opened(now=11.0)
    assert call.deadline() is None and call.sending
    call.expect_ack(now=12.0, timeout_s=3.0)
    assert call.expired(15.0) is Expired.ACK
    call.acked(now=13.0, timeout_s=3.0, still_in_flight=False)
    assert call.deadline() is None
    call.expect_ack(now=13.0, timeout_s=3.0)
    call.pause(until=14.0)
    assert not call.sending and call.expired(14.0) is Expired.PAUSE
    call.doom(ZerobusException("gone"))
    assert call.ending and call.deadline() is None and call.expired(100.0) is None
    assert call.ended() and call.is_current(call_id)
    assert call.begin(now=20.0, creation_timeout_s=5.0) == call_id + 1 and not call.ending


def test_the_status_releases_every_waiter_when_the_stream_fails() -> None:
    status = StreamStatus()
    opening, waiting = Recorder(), Recorder()
    status.add_open_waiter(opening)
    first, released = status.opened("s-1")
    assert first and released == [opening]
    assert status.add_waiter(4, waiting, durable=1, last=5)
    assert not status.add_waiter(1, Recorder(), durable=1, last=5)  # durable already
    with pytest.raises(ValueError, match="never handed out"):
        status.add_waiter(9, Recorder(), durable=1, last=5)
    assert status.begin_flush(durable=1, last=5) == 5 and status.state is StreamState.FLUSHING
    error = NonRetriableException("boom")
    assert status.failed(error, now=3.0) == [waiting]
    assert status.ended and status.state is StreamState.FAILED
    assert "stream failed: boom" in str(status.rejection())
    late = Recorder()
    status.add_open_waiter(late)
    assert late.resolved and late.error is error
