"""Recovery: what is resent, when the engine reconnects, and when it gives up."""

from __future__ import annotations

from tests.engine.scripted import FakeClock, Recorder, ack, created, drain, make_core, open_call
from zerobus.engine import StreamState
from zerobus.errors import NonRetriableException, ZerobusException

UNAVAILABLE = ZerobusException("stream failed with UNAVAILABLE: try again")


def test_unacknowledged_requests_are_resent_first_in_order_renumbered_from_zero(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)  # wire 0
    core.submit_many([b"b", b"c"], 2)
    drain(core, call_id)  # wire 1
    core.submit(b"d")
    drain(core, call_id)  # wire 2
    core.on_response(call_id, ack(0))  # only "a" is durable
    core.submit(b"e")  # queued, never sent

    effects = core.on_call_ended(call_id, UNAVAILABLE)
    assert effects.reconnect_in == 0.0 and not effects.stop
    assert core.state is StreamState.RECOVERING
    core.submit(b"f")  # ingested while recovering
    call_id = open_call(core, "s-2")
    assert core.state is StreamState.OPENED and core.stream_id == "s-2"
    assert drain(core, call_id) == [(0, [b"b", b"c"]), (1, [b"d"]), (2, [b"e", b"f"])]
    # Offsets stay logical: the resent requests still map to offsets 1 and 2.
    effects = core.on_response(call_id, ack(1))
    assert effects is not None and effects.acked == (1, 2)
    assert core.submit(b"g") == 5


def test_resend_survives_several_failed_attempts(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    core.on_call_ended(call_id, UNAVAILABLE)
    for _ in range(2):
        call_id = core.begin_attempt()
        assert call_id is not None
        core.on_call_ended(call_id, UNAVAILABLE)  # creation itself failed
    call_id = open_call(core)
    assert drain(core, call_id) == [(0, [b"a"])]


def test_first_reconnect_is_immediate_then_backoff(clock: FakeClock) -> None:
    core = make_core(clock, recovery_backoff_s=0.5, recovery_retries=3)
    call_id = open_call(core)
    delays = []
    for _ in range(3):
        effects = core.on_call_ended(call_id, UNAVAILABLE)
        delays.append(effects.reconnect_in)
        call_id = core.begin_attempt() or 0
    assert delays == [0.0, 0.5, 0.5]


def test_gives_up_after_recovery_retries_without_progress(clock: FakeClock) -> None:
    """A stream failing right after every reopen must not retry forever."""
    core = make_core(clock, recovery_retries=2)
    call_id = open_call(core)
    core.submit(b"a")
    for _ in range(2):
        drain(core, call_id)
        effects = core.on_call_ended(call_id, UNAVAILABLE)
        assert not effects.stop
        call_id = open_call(core)  # reopens fine, then breaks again without any ack
    drain(core, call_id)
    waiter = Recorder()
    core.add_waiter(0, waiter)
    effects = core.on_call_ended(call_id, UNAVAILABLE)
    assert effects.stop and core.state is StreamState.FAILED
    assert effects.error is not None and "UNAVAILABLE" in effects.error.message
    assert "gave up after 3" in effects.error.message
    assert waiter in effects.released and effects.failed == (0, 0)
    assert core.unacked_records() == [b"a"]


def test_progress_resets_the_budget(clock: FakeClock) -> None:
    core = make_core(clock, recovery_retries=1)
    call_id = open_call(core)
    for i in range(5):
        core.submit(b"%d" % i)
        drain(core, call_id)
        core.on_response(call_id, ack(0))  # every new call makes progress
        effects = core.on_call_ended(call_id, UNAVAILABLE)
        assert not effects.stop
        call_id = open_call(core)
    assert core.state is StreamState.OPENED


def test_an_idle_call_that_lived_long_is_healthy(clock: FakeClock) -> None:
    core = make_core(clock, recovery_retries=2, recovery_timeout_s=5.0)
    call_id = open_call(core)
    for _ in range(4):
        clock.advance(6.0)  # longer than an attempt may take, nothing in flight
        assert not core.on_call_ended(call_id, UNAVAILABLE).stop
        call_id = open_call(core)
    clock.advance(1.0)  # but dying quickly, twice, exhausts the budget
    assert not core.on_call_ended(call_id, UNAVAILABLE).stop
    call_id = open_call(core)
    assert core.on_call_ended(call_id, UNAVAILABLE).stop


def test_non_retryable_errors_fail_at_once(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    error = NonRetriableException("stream failed with INVALID_ARGUMENT: 4044 bad value")
    effects = core.on_call_ended(call_id, error)
    assert effects.stop and effects.error is error and core.failure is error
    assert core.state is StreamState.FAILED
    rejection = core.rejection()
    assert isinstance(rejection, NonRetriableException) and "4044 bad value" in rejection.message


def test_recovery_disabled_fails_on_the_first_error(clock: FakeClock) -> None:
    core = make_core(clock, recovery=False)
    call_id = open_call(core)
    effects = core.on_call_ended(call_id, UNAVAILABLE)
    assert effects.stop and core.failure is UNAVAILABLE


def test_creation_retries_with_backoff_then_gives_up(clock: FakeClock) -> None:
    core = make_core(clock, recovery_retries=2, recovery_backoff_s=0.25)
    opened = Recorder()
    core.add_open_waiter(opened)
    delays = []
    for _ in range(3):
        call_id = core.begin_attempt()
        assert call_id is not None and core.state is StreamState.UNINITIALIZED
        effects = core.on_call_ended(call_id, UNAVAILABLE)
        delays.append(effects.reconnect_in)
    assert delays == [0.25, 0.25, None]
    assert effects.stop and opened in effects.released and isinstance(effects.error, ZerobusException)
    assert core.begin_attempt() is None


def test_creation_succeeds_after_retries(clock: FakeClock) -> None:
    core = make_core(clock)
    opened = Recorder()
    core.add_open_waiter(opened)
    call_id = core.begin_attempt() or 0
    core.on_call_ended(call_id, UNAVAILABLE)
    call_id = core.begin_attempt() or 0
    effects = core.on_response(call_id, created("s-9"))
    assert effects is not None and opened in effects.released
    assert core.state is StreamState.OPENED and core.stream_id == "s-9"


def test_a_call_ended_without_status_is_retryable(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    effects = core.on_call_ended(call_id, None)
    assert not effects.stop and core.last_error is not None
    assert "without a status" in core.last_error.message


def test_events_of_an_old_call_are_ignored(clock: FakeClock) -> None:
    core = make_core(clock)
    old = open_call(core)
    core.submit(b"a")
    drain(core, old)
    core.on_call_ended(old, UNAVAILABLE)
    new = open_call(core)
    assert core.next_request(old) is None
    assert core.on_response(old, ack(0)) is None
    assert core.on_timer(old) is None
    assert core.on_call_ended(old, UNAVAILABLE).stop  # stale: the supervisor of that call stops
    assert drain(core, new) == [(0, [b"a"])]
