"""Internal: The stream engine: every protocol decision of a Zerobus stream, with no I/O.

The drivers (`zerobus.sdk.sync`, `zerobus.sdk.aio`) hold one lock (or one event loop) around
each call into a `StreamCore`, move the bytes it asks them to move, sleep until the deadline it
names, and apply the `Effects` it returns outside their lock: wake waiters, run callbacks,
cancel a call. Time comes from an injected clock so tests can script every timeout.

`StreamCore` is a thin facade that turns each event into the `Effects` for the driver, over
parts with one job each:

- `Submissions` (`submissions`): the queue of encoded records, logical offsets, the in-flight
  window, adaptive batching, and the compiled per-record path.
- `AckLedger` (`ack_ledger`): wire offsets per call, cumulative acks mapped back to logical
  offsets, resending what a broken call left unacknowledged.
- `CallLifecycle` (`lifecycle`): the current call's flags and deadlines.
- `RecoveryPolicy` (`recovery`): whether and when to try again.
- `StreamStatus` (`status`): the phase (`state`), errors, and who waits (`waiters`).
- What a stream reports (`stats`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from zerobus.engine.ack_ledger import AckLedger
from zerobus.engine.config import EngineConfig
from zerobus.engine.effects import Effects, StreamTimeoutError
from zerobus.engine.lifecycle import CallLifecycle, Expired
from zerobus.engine.recovery import RecoveryPolicy
from zerobus.engine.state import StreamState
from zerobus.engine.stats import StreamStats, snapshot, stream_log_fields
from zerobus.engine.status import StreamStatus
from zerobus.engine.submissions import Payload, Submission, Submissions, flatten
from zerobus.engine.waiters import Waiter
from zerobus.error_text import failure_text, stream_title
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol import EphemeralStreamResponse, RecordTypeValue

__all__ = ["StreamCore"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class StreamCore:
    """The engine of one stream. Not thread-safe: the driver serialises every call."""

    def __init__(self, config: EngineConfig, clock: Clock) -> None:
        self.config = config
        self._clock = clock
        self.json = config.record_type == RecordTypeValue.JSON
        self.submissions = Submissions(config)
        self._ledger = AckLedger()
        self._call = CallLifecycle()
        self._status = StreamStatus()
        self._policy = RecoveryPolicy(
            config.recovery, config.recovery_retries, config.recovery_timeout_s, config.recovery_backoff_s
        )

    # --- where it stands --------------------------------------------------------------------------

    @property
    def state(self) -> StreamState:
        return self._status.state

    @property
    def stream_id(self) -> str | None:
        return self._status.stream_id

    @property
    def failure(self) -> ZerobusException | None:
        """Why the stream failed for good (None unless FAILED)."""
        return self._status.failure

    @property
    def last_error(self) -> ZerobusException | None:
        """The most recent error a call ended with (recovered from or not)."""
        return self._status.last_error

    @property
    def closing(self) -> bool:
        return self._status.closing

    @property
    def last_offset(self) -> int:
        """The last logical offset handed out (-1 before the first submission)."""
        return self.submissions.next_offset - 1

    @property
    def durable_offset(self) -> int:
        """The last logical offset acknowledged (-1 before the first ack)."""
        return self._ledger.durable_offset

    @property
    def unacked_count(self) -> int:
        """Records submitted and not yet acknowledged (queued, waiting for resend, in flight)."""
        return self.submissions.unacked_count

    def is_durable(self, offset: int) -> bool:
        return offset <= self._ledger.durable_offset

    def rejection(self) -> ZerobusException:
        """The error an ingest call gets once the stream no longer accepts records."""
        return self._status.rejection()

    # --- ingest and the sender --------------------------------------------------------------------

    def must_wait_for_space(self, records: int) -> bool:
        """Whether an ingest of `records` must wait: the window is full and the stream still takes records."""
        return not self.submissions.has_space(records) and self._status.failure is None and not self.closing

    def submit(self, payload: Payload) -> int:
        """Queue one encoded record; returns its logical offset."""
        if not self.submissions.accepting:
            raise self.rejection()
        return self.submissions.add(payload)

    def submit_many(self, payloads: list[Payload], nbytes: int) -> int:
        """Queue several encoded records as one submission (one logical offset, one request)."""
        if not self.submissions.accepting:
            raise self.rejection()
        return self.submissions.add_many(payloads, nbytes)

    def sender_sleeps(self) -> None:
        """The driver's sender sleeps for lack of work until someone claims it (`claim_idle_sender`)."""
        self.submissions.sender_sleeps()

    def sender_woke(self) -> None:
        self.submissions.sender_woke()

    def claim_idle_sender(self) -> bool:
        """True, and the flag cleared, if the sender sleeps for lack of work: the caller wakes it."""
        return self.submissions.claim_idle_sender()

    def next_request(self, call_id: int) -> tuple[int, list[Payload]] | None:
        """The next request to send on call `call_id`: (wire offset, records), or None for now."""
        if not self._call.is_current(call_id) or not self._call.sending:
            return None
        batch = self._ledger.next_batch(self.submissions)
        if batch is None:
            return None
        now = self._clock()
        wire, first_in_flight = self._ledger.sent(batch, now)
        if first_in_flight:
            self._call.expect_ack(now, self.config.lack_of_ack_timeout_s)
        return wire, batch.records

    # --- calls ----------------------------------------------------------------------------------

    def begin_attempt(self) -> int | None:
        """Start a new call; returns its id, or None if the stream is closed or failed."""
        if self._status.ended:
            return None
        self._ledger.new_call()
        return self._call.begin(self._clock(), self.config.recovery_timeout_s)

    def create_request_fields(self) -> tuple[str, int, bytes | None]:
        return self.config.table_name, self.config.record_type, self.config.descriptor_proto

    def on_response(self, call_id: int, response: EphemeralStreamResponse) -> Effects | None:
        """Feed one `EphemeralStreamResponse` received on call `call_id`."""
        if not self._call.is_current(call_id) or self._status.ended:
            return None
        kind = response.WhichOneof("payload")
        if kind == "ingest_record_response":
            return self.on_ack(call_id, response.ingest_record_response.durability_ack_up_to_offset)
        if kind == "create_stream_response":
            return self.on_created(call_id, response.create_stream_response.stream_id)
        if kind == "close_stream_signal":
            duration = response.close_stream_signal.duration
            return self.on_close_signal(call_id, duration.seconds + duration.nanos / 1e9)
        logger.debug("ignoring a response without a known payload", extra=self.log_fields())
        return None

    def on_created(self, call_id: int, stream_id: str) -> Effects | None:
        if not self._call.is_current(call_id) or self._call.created:
            return None
        self._call.opened(self._clock())
        first, released = self._status.opened(stream_id)
        effects = Effects.wake()
        effects.released = released
        table = self.config.table_name
        if first:
            logger.info("stream %s opened for table %s", stream_id, table, extra=self.log_fields())
        else:
            resend = self._ledger.resend_records
            text = "stream recovered as %s for table %s; resending %d unacknowledged records"
            logger.info(text, stream_id, table, resend, extra=self.log_fields())
        return effects

    def on_ack(self, call_id: int, wire_offset: int) -> Effects | None:
        """A cumulative acknowledgment: every request with wire offset <= `wire_offset` is durable."""
        ledger = self._ledger
        count = ledger.requests_covered(wire_offset) if self._call.is_current(call_id) else 0
        if count <= 0:
            return None
        if count > ledger.requests_in_flight:
            text = "server acknowledged wire offset %d but only %d was sent; ignoring the excess"
            logger.warning(text, wire_offset, ledger.last_sent_wire, extra=self.log_fields())
            count = ledger.requests_in_flight
        now = self._clock()
        acked = ledger.acknowledge(count, now)
        self.submissions.acknowledged(acked.records)
        self._policy.progress()
        self._call.acked(now, self.config.lack_of_ack_timeout_s, ledger.in_flight)
        effects = Effects.wake()
        effects.acked = (acked.first, acked.last)
        effects.released = self._status.release_up_to(acked.last)
        if self._call.paused and not ledger.in_flight:
            self._rotate(effects, "every in-flight request was acknowledged after the close signal")
        return effects

    def on_close_signal(self, call_id: int, duration_s: float) -> Effects | None:
        """The server will end this call after `duration_s`: pause, drain acks, then rotate."""
        call = self._call
        if not call.is_current(call_id) or call.paused or call.rotating:
            return None
        limit = self.config.stream_paused_max_wait_s
        wait = duration_s if limit is None else min(limit, duration_s)
        call.stop_sending()
        effects = Effects()
        text = "server will close stream %s in %.3f s; pausing for up to %.3f s"
        logger.info(text, self.stream_id, duration_s, wait, extra=self.log_fields())
        if wait <= 0 or not self._ledger.in_flight:
            self._rotate(effects, "close signal with nothing in flight" if wait > 0 else "close signal")
        else:
            call.pause(self._clock() + wait)
        return effects

    def _rotate(self, effects: Effects, why: str) -> None:
        logger.info("rotating stream %s to a new call: %s", self.stream_id, why, extra=self.log_fields())
        self._call.rotate()
        effects.cancel_call = True

    # --- timers ---------------------------------------------------------------------------------

    def deadline(self) -> float | None:
        """The current call's next deadline on the injected clock (None: nothing is timed)."""
        return self._call.deadline()

    def next_timeout(self) -> float | None:
        """Seconds until `deadline()` (None: nothing is timed)."""
        deadline = self._call.deadline()
        return None if deadline is None else max(0.0, deadline - self._clock())

    def on_timer(self, call_id: int) -> Effects | None:
        """Check the current call's deadlines; the effects say whether to cancel it."""
        expired = self._call.expired(self._clock()) if self._call.is_current(call_id) else None
        if expired is None:
            return None
        effects = Effects()
        in_flight = self._ledger.inflight_records
        if expired is Expired.PAUSE:
            self._rotate(effects, f"pause after the close signal ended with {in_flight} records in flight")
            return effects
        if expired is Expired.CREATION:
            text = f"creating the stream timed out after {round(self.config.recovery_timeout_s * 1000)} ms"
        else:
            text = (
                f"no acknowledgment from the server for {round(self.config.lack_of_ack_timeout_s * 1000)} ms "
                f"with {in_flight} records in flight (server_lack_of_ack_timeout_ms)"
            )
        self._call.doom(ZerobusException(text))
        effects.cancel_call = True
        return effects

    def on_call_ended(self, call_id: int, error: ZerobusException | None) -> Effects:
        """The call is over (error status, lost connection, cancelled by us): what next?"""
        effects = Effects()
        effects.stop = True
        call = self._call
        if not call.is_current(call_id):
            return effects
        was_open = call.ended()
        self._ledger.call_ended()
        if self._status.ended:
            return effects
        if was_open:
            self._policy.healthy_call_ended(self._clock() - call.created_at, self._ledger.has_resend)
        effects.stop = False
        effects.wake_all = True
        rotation = call.rotating or (call.paused and not isinstance(error, NonRetriableException))
        if rotation and call.cancel_reason is None:
            self._status.recovering()
            effects.reconnect_in = 0.0
            return effects
        reason = (
            call.cancel_reason or error or ZerobusException("the server ended the stream without a status")
        )
        self._status.errored(reason, self._clock())
        decision = self._policy.on_failure(reason, was_open)
        if not decision.retry:
            self._fail(decision.error, effects)
            effects.stop = True
            return effects
        self._status.recovering()
        text = "%s; recovery attempt %d of %d in %.3f s"
        retries, table = self.config.recovery_retries, self.config.table_name
        logger.warning(
            text,
            failure_text(stream_title(self.stream_id, table), reason),
            decision.attempt,
            retries,
            decision.delay_s,
            extra=self.log_fields(),
        )
        effects.reconnect_in = decision.delay_s
        return effects

    # --- failure, flush, close ------------------------------------------------------------------

    def fail(self, error: ZerobusException) -> Effects:
        """End the stream for good (the drivers call this for errors outside any call)."""
        effects = Effects()
        if not self._status.ended:
            self._fail(error, effects)
        return effects

    def _fail(self, error: ZerobusException, effects: Effects) -> None:
        table = self.config.table_name
        logger.error(failure_text(stream_title(self.stream_id, table), error), extra=self.log_fields())
        effects.released = self._status.failed(error, self._clock())
        self.submissions.stop_accepting()
        self._call.stop_sending()
        effects.error = error
        effects.cancel_call = True
        effects.wake_all = True
        if self.durable_offset < self.last_offset:
            effects.failed = (self.durable_offset + 1, self.last_offset)

    def add_open_waiter(self, waiter: Waiter) -> None:
        """`waiter` is resolved when the first call opens, or with the error if creation fails."""
        self._status.add_open_waiter(waiter)

    def add_waiter(self, offset: int, waiter: Waiter) -> bool:
        """Wait for `offset`; False (and nothing registered) if it is durable already.

        Raises the stream's failure if it failed before `offset` became durable.
        """
        return self._status.add_waiter(offset, waiter, self.durable_offset, self.last_offset)

    def discard_waiter(self, waiter: Waiter) -> None:
        self._status.discard_waiter(waiter)

    def timeout_error(self, what: str, timeout_s: float) -> StreamTimeoutError:
        """A timeout naming what was pending and the last real error seen, if any."""
        return self._status.timeout_error(what, timeout_s, self.unacked_count)

    def begin_flush(self) -> int | None:
        """The offset a flush must wait for, or None if everything is durable already."""
        return self._status.begin_flush(self.durable_offset, self.last_offset)

    def end_flush(self) -> None:
        self._status.end_flush()

    def begin_close(self) -> bool:
        """Stop accepting records; True if the close must still wait for acknowledgments."""
        if self._status.ended:
            return False
        self.submissions.stop_accepting()
        self._status.closing = True
        return self.durable_offset < self.last_offset

    def finish_close(self) -> Effects:
        """Everything is acknowledged (or the stream never opened): the stream is CLOSED."""
        effects = Effects()
        if not self._status.ended:
            effects.released = self._status.closed()
            self._call.stop_sending()
            effects.cancel_call = True
            effects.wake_all = True
            effects.error = self.rejection()
            table = self.config.table_name
            logger.info("%s closed", stream_title(self.stream_id, table), extra=self.log_fields())
        return effects

    # --- what it reports ------------------------------------------------------------------------

    def log_fields(self) -> dict[str, object]:
        """`extra=` for a log record about this stream (table, stream id, offsets)."""
        return stream_log_fields(
            self.config.table_name, self.stream_id, self.last_offset, self.durable_offset
        )

    def stats(self) -> StreamStats:
        """A snapshot of the stream's counters; percentiles are computed here, not as acks arrive."""
        return snapshot(self.config.table_name, self._status, self.submissions, self._ledger)

    def unacked_records(self) -> list[Payload]:
        """Every record not yet acknowledged, in ingest order (what to resend on a new stream)."""
        return flatten(self._unacked_entries())

    def unacked_batches(self) -> list[list[Payload]]:
        """The same records grouped by submission (one list per ingest call)."""
        return [list(e) if type(e) is Submission else [e] for e in self._unacked_entries()]  # type: ignore[list-item]

    def _unacked_entries(self) -> list[Payload | Submission]:
        return self._ledger.unacked_entries() + self.submissions.entries()
