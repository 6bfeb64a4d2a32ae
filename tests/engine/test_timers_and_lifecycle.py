"""Deadlines (creation, lack of acks, close-signal pause), flush/close and the state machine."""

from __future__ import annotations

import pytest

from tests.engine.scripted import FakeClock, Recorder, ack, close_signal, drain, make_core, open_call
from zerobus.engine import ALLOWED_TRANSITIONS, StreamCore, StreamState, check_transition
from zerobus.errors import NonRetriableException, ZerobusException

# --- lack of acknowledgments ------------------------------------------------------------------


def test_an_idle_stream_never_times_out(clock: FakeClock) -> None:
    core = make_core(clock, lack_of_ack_timeout_s=10.0)
    call_id = open_call(core)
    assert core.next_timeout() is None
    clock.advance(3600)
    assert core.on_timer(call_id) is None


def test_lack_of_ack_fires_only_while_something_is_in_flight(clock: FakeClock) -> None:
    core = make_core(clock, lack_of_ack_timeout_s=10.0)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    assert core.next_timeout() == pytest.approx(10.0)
    clock.advance(9.9)
    assert core.on_timer(call_id) is None
    clock.advance(0.2)
    effects = core.on_timer(call_id)
    assert effects is not None and effects.cancel_call
    assert core.next_request(call_id) is None  # nothing more goes out on a doomed call
    ended = core.on_call_ended(call_id, ZerobusException("stream failed with CANCELLED: cancelled"))
    assert not ended.stop
    assert (
        core.last_error is not None
        and "no acknowledgment from the server for 10000 ms" in core.last_error.message
    )


def test_an_ack_pushes_the_lack_of_ack_deadline_back(clock: FakeClock) -> None:
    core = make_core(clock, lack_of_ack_timeout_s=10.0)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    clock.advance(8)
    core.submit(b"b")
    drain(core, call_id)
    core.on_response(call_id, ack(0))  # "b" still in flight: a fresh 10 s from now
    assert core.next_timeout() == pytest.approx(10.0)
    core.on_response(call_id, ack(1))
    assert core.next_timeout() is None


def test_withheld_acks_lead_to_failure_after_the_retries(clock: FakeClock) -> None:
    core = make_core(clock, lack_of_ack_timeout_s=1.0, recovery_retries=2)
    core.submit(b"a")
    for attempt in range(3):
        call_id = open_call(core)
        assert drain(core, call_id) == [(0, [b"a"])]
        clock.advance(1.0)
        effects = core.on_timer(call_id)
        assert effects is not None and effects.cancel_call
        ended = core.on_call_ended(call_id, ZerobusException("cancelled"))
        assert ended.stop == (attempt == 2)
    assert core.state is StreamState.FAILED
    assert core.failure is not None and "no acknowledgment" in core.failure.message
    assert core.unacked_records() == [b"a"]


# --- creation timeout -------------------------------------------------------------------------


def test_creation_that_is_never_answered_times_out(clock: FakeClock) -> None:
    core = make_core(clock, recovery_timeout_s=5.0)
    call_id = core.begin_attempt() or 0
    assert core.next_timeout() == pytest.approx(5.0)
    clock.advance(5.0)
    effects = core.on_timer(call_id)
    assert effects is not None and effects.cancel_call
    core.on_call_ended(call_id, ZerobusException("cancelled"))
    assert (
        core.last_error is not None
        and "creating the stream timed out after 5000 ms" in core.last_error.message
    )


# --- close signal -----------------------------------------------------------------------------


def _in_flight(core_clock: FakeClock, **changes: object) -> tuple[StreamCore, int]:
    core = make_core(core_clock, lack_of_ack_timeout_s=600.0, **changes)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    return core, call_id


def test_close_signal_pauses_for_the_whole_duration_by_default(clock: FakeClock) -> None:
    core, call_id = _in_flight(clock, stream_paused_max_wait_s=None)
    assert core.on_response(call_id, close_signal(30.0)) is not None
    core.submit(b"b")
    assert core.next_request(call_id) is None  # paused: nothing new goes out
    assert core.next_timeout() == pytest.approx(30.0)
    clock.advance(30.0)
    effects = core.on_timer(call_id)
    assert effects is not None and effects.cancel_call


def test_close_signal_with_zero_wait_rotates_at_once(clock: FakeClock) -> None:
    core, call_id = _in_flight(clock, stream_paused_max_wait_s=0.0)
    effects = core.on_response(call_id, close_signal(30.0))
    assert effects is not None and effects.cancel_call


def test_close_signal_waits_the_smaller_of_option_and_duration(clock: FakeClock) -> None:
    core, call_id = _in_flight(clock, stream_paused_max_wait_s=2.0)
    core.on_response(call_id, close_signal(30.0))
    assert core.next_timeout() == pytest.approx(2.0)
    core, call_id = _in_flight(clock, stream_paused_max_wait_s=60.0)
    core.on_response(call_id, close_signal(3.0))
    assert core.next_timeout() == pytest.approx(3.0)


def test_close_signal_rotates_as_soon_as_everything_is_acknowledged(clock: FakeClock) -> None:
    core = make_core(clock, recovery_retries=0)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    core.on_response(call_id, close_signal(30.0))
    core.submit(b"b")
    effects = core.on_response(call_id, ack(0))
    assert effects is not None and effects.cancel_call and effects.acked == (0, 0)
    # The rotation is not a failure: even with recovery_retries=0 the stream carries on.
    ended = core.on_call_ended(call_id, ZerobusException("cancelled"))
    assert not ended.stop and ended.reconnect_in == 0.0
    call_id = open_call(core, "s-2")
    assert drain(core, call_id) == [(0, [b"b"])]


def test_server_ending_the_call_during_the_pause_is_a_rotation(clock: FakeClock) -> None:
    core = make_core(clock, recovery_retries=0)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    core.on_response(call_id, close_signal(1.0))
    ended = core.on_call_ended(call_id, ZerobusException("stream failed with ABORTED: Error code 6002"))
    assert not ended.stop
    call_id = open_call(core)
    assert drain(core, call_id) == [(0, [b"a"])]


def test_close_signal_on_an_idle_stream_rotates_at_once(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    effects = core.on_response(call_id, close_signal(30.0))
    assert effects is not None and effects.cancel_call


# --- flush and close --------------------------------------------------------------------------


def test_flush_waits_for_the_last_offset_and_shows_flushing(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    assert core.begin_flush() is None  # nothing ingested
    core.submit(b"a")
    core.submit(b"b")
    target = core.begin_flush()
    assert target == 1 and core.state is StreamState.FLUSHING
    waiter = Recorder()
    assert core.add_waiter(target, waiter)
    drain(core, call_id)
    effects = core.on_response(call_id, ack(0))
    assert effects is not None and waiter in effects.released
    core.end_flush()
    assert core.state is StreamState.OPENED


def test_flush_shows_recovering_while_the_stream_recovers(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    core.begin_flush()
    core.on_call_ended(call_id, ZerobusException("UNAVAILABLE"))
    assert core.state is StreamState.RECOVERING
    open_call(core)
    assert core.state is StreamState.FLUSHING


def test_close_with_everything_acknowledged(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    assert core.begin_close()  # must wait
    with pytest.raises(NonRetriableException, match="closed"):
        core.submit(b"late")
    core.on_response(call_id, ack(0))
    effects = core.finish_close()
    assert effects.cancel_call and core.state is StreamState.CLOSED
    assert core.on_call_ended(call_id, ZerobusException("cancelled")).stop
    assert core.begin_attempt() is None
    assert not core.begin_close()  # idempotent


def test_a_timed_out_close_keeps_the_records(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    core.submit_many([b"b", b"c"], 2)
    drain(core, call_id)
    core.submit(b"d")
    core.begin_close()
    timeout = core.timeout_error("close", 30.0)
    effects = core.fail(timeout)
    assert core.state is StreamState.FAILED and effects.failed == (0, 2)
    assert core.unacked_records() == [b"a", b"b", b"c", b"d"]
    assert core.unacked_batches() == [[b"a"], [b"b", b"c"], [b"d"]]


def test_timeout_errors_name_the_last_real_error(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    core.on_call_ended(call_id, ZerobusException("stream failed with UNAVAILABLE: server overloaded"))
    error = core.timeout_error("flush", 2.0)
    assert isinstance(error, TimeoutError) and isinstance(error, ZerobusException)
    assert "flush timed out after 2 s with 1 records unacknowledged" in error.message
    assert "server overloaded" in error.message


def test_failure_resolves_every_waiter_with_the_real_error(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    waiters = []
    for i in range(3):
        core.submit(b"%d" % i)
        waiters.append(Recorder())
        core.add_waiter(i, waiters[-1])
    gone = waiters[1]
    core.discard_waiter(gone)
    error = NonRetriableException("stream failed with PERMISSION_DENIED: 4024 grants")
    effects = core.on_call_ended(call_id, error)
    assert effects.error is error and effects.released == [waiters[0], waiters[2]]
    with pytest.raises(NonRetriableException, match="4024 grants"):
        core.add_waiter(2, Recorder())
    with pytest.raises(NonRetriableException, match="4024 grants"):
        core.begin_flush()


# --- states -----------------------------------------------------------------------------------


def test_state_transitions_follow_the_table() -> None:
    check_transition(StreamState.OPENED, StreamState.RECOVERING)
    for terminal in (StreamState.CLOSED, StreamState.FAILED):
        assert ALLOWED_TRANSITIONS[terminal] == frozenset()
        with pytest.raises(RuntimeError, match="cannot go from"):
            check_transition(terminal, StreamState.OPENED)
    with pytest.raises(RuntimeError):
        check_transition(StreamState.UNINITIALIZED, StreamState.RECOVERING)


def test_state_values_match_the_official_sdk() -> None:
    assert [(s.name, s.value) for s in StreamState] == [
        ("UNINITIALIZED", 0),
        ("OPENED", 1),
        ("FLUSHING", 2),
        ("CLOSED", 3),
        ("RECOVERING", 4),
        ("FAILED", 5),
    ]
