"""Internal: The parts of a stream that do not depend on how I/O is done, shared by both drivers.

The sequences that mix engine calls with waiting (the supervisor's reconnect loop, flush,
close) are written once here as generators, in the way httpx writes its auth flows: each
yields a typed step (`zerobus.sdk.shared.steps`) naming the I/O to do, and the driver carries
it out (blocking, or awaiting) and sends the result back, or throws the error in. Engine calls
are made under `_guard`: the sync driver's lock, or nothing in the aio driver (one event loop,
no await in between). Whatever does not block or await is written here too, once: the drivers
keep only the moving of bytes, sleeping and waking, under the same method names.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from zerobus.connection_hints import explain_grpc_failure
from zerobus.encoders.base import EncodedRecords
from zerobus.engine import (
    TERMINAL_STATES,
    Effects,
    StreamCore,
    StreamState,
    StreamTimeoutError,
    create_stream_request,
)
from zerobus.engine.stats import StreamStats
from zerobus.engine.submissions import Payload
from zerobus.engine.waiters import Waiter
from zerobus.error_text import stream_title
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol import EphemeralStreamResponse
from zerobus.sdk.shared.arrow_rows import ArrowRows
from zerobus.sdk.shared.callbacks import CallbackDispatcher
from zerobus.sdk.shared.options import StreamConfigurationOptions
from zerobus.sdk.shared.refusal import CredentialRefusals
from zerobus.sdk.shared.stats_ledger import ledger_for
from zerobus.sdk.shared.steps import RunCall, Shutdown, Sleep, Steps, Wait
from zerobus.sdk.shared.stream_plan import SdkConfig, StreamPlan
from zerobus.sdk.shared.table_properties import TableProperties
from zerobus.sdk.shared.unclosed import exit_loss_reason, forget, remember, report_left_open

__all__ = ["Record", "StreamBase"]

logger = logging.getLogger(__name__)

# What an ingest call takes: a message, a dict, a model, JSON text or encoded bytes. The
# stream's encoder decides per record and refuses anything else with `InvalidRecordError`
# naming the field, the value and the reason, so the static type is every object.
Record = object


class StreamBase:
    """State, encoder, engine and callbacks of a stream; the drivers add the I/O."""

    _guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    # Set by each driver (under `_guard`): wake its sender, wake its timer.
    _notify_sender: Callable[[], object]
    _notify_timer: Callable[[], object]

    def __init__(self, config: SdkConfig, plan: StreamPlan) -> None:
        self._config = config
        self._plan = plan
        self._core = StreamCore(plan.engine, time.monotonic)
        self._encoder = plan.encoder
        self._encode = plan.encoder.encode
        self._callbacks = CallbackDispatcher(plan.options.ack_callback, plan.table.table_name)
        self._failure_reported = False
        self._create_request = create_stream_request(*self._core.create_request_fields())
        self._refusals = CredentialRefusals(plan.headers_provider)
        # The SDK's stats (`sdk.stats()`) count this stream from `_track()` (opened) until closed.
        self._ledger = ledger_for(config)
        # The call being read (0: none), and when the timer will next look at the engine.
        self._live_call_id = 0
        self._timer_until = float("inf")
        self._arrow_rows = ArrowRows(plan.encoder, self._core.config)

    # --- the official API's read-only parts ---------------------------------------------------

    @property
    def stream_id(self) -> str | None:
        """The server's id of the current call's stream (changes when the stream recovers)."""
        return self._core.stream_id

    @property
    def table_properties(self) -> TableProperties:
        return self._plan.table

    @property
    def options(self) -> StreamConfigurationOptions:
        return self._plan.options

    def get_state(self) -> StreamState:
        return self._core.state

    def stats(self) -> StreamStats:
        """A snapshot of this stream's counters and ack latency (see `zerobus.telemetry.StreamStats`).

        Safe to call from any thread, at any time, also after the stream closed or failed. An
        asyncio stream read from another thread than its event loop's may show counts taken a
        request apart (each one is right; their sum can be off while records move).
        """
        with self._guard:
            return self._core.stats()

    # --- written once, stepped by each driver ---------------------------------------------------

    def _supervisor_steps(self) -> Steps:
        """Open calls until the engine says stop; between calls, sleep as it says."""
        core = self._core
        while True:
            with self._guard:
                call_id = core.begin_attempt()
            if call_id is None:
                return
            error = yield RunCall(call_id)
            with self._guard:
                effects = core.on_call_ended(call_id, error)
            self._apply(effects)
            if effects.stop:
                return
            if effects.reconnect_in:
                yield Sleep(effects.reconnect_in)

    def _flush_steps(self) -> Steps:
        with self._guard:
            target = self._core.begin_flush()
        if target is None:
            return
        try:
            yield Wait(target, self._core.config.flush_timeout_s, "flush")
        finally:
            with self._guard:
                self._core.end_flush()

    def _close_steps(self) -> Steps:
        """Close; once the stream is closed or failed, the SDK's stats keep its final counts.

        A close that was interrupted (an asyncio task cancelled) leaves the stream counted live.
        """
        try:
            yield from self._closing_steps()
        finally:
            if self._core.state in TERMINAL_STATES:
                self._ledger.retire(self)

    def _closing_steps(self) -> Steps:
        """Flush, end the call, wait for callbacks. A timed-out close fails the stream, keeping its records."""
        core = self._core
        with self._guard:
            failure = self._take_failure()
            must_wait = core.begin_close()
        self._apply_wake()
        if failure is not None:
            yield Shutdown()
            raise failure
        if must_wait:
            try:
                yield Wait(core.last_offset, core.config.flush_timeout_s, "close")
            except ZerobusException as error:
                with self._guard:
                    self._failure_reported = True
                    effects = core.fail(error)
                self._apply(effects)
                yield Shutdown()
                raise
        with self._guard:
            effects = core.finish_close()
        self._apply(effects)
        yield Shutdown()

    # --- hooks and helpers for the drivers ------------------------------------------------------

    def _apply(self, effects: Effects) -> None:
        """Carry out the engine's effects (driver-specific wake-ups, then `_resolve`)."""
        raise NotImplementedError

    def _apply_wake(self) -> None:
        self._apply(Effects.wake())

    def _wake_sender(self) -> None:
        """(Under `_guard`.) Wake the sender if it sleeps for lack of work."""
        if self._core.claim_idle_sender():
            self._notify_sender()

    def _poke_timer(self) -> None:
        """(Under `_guard`.) Wake the timer if the engine's next deadline is earlier than it thinks."""
        deadline = self._core.deadline()
        if deadline is not None and deadline < self._timer_until:
            self._notify_timer()

    def _settle_at_exit(self) -> None:
        """The program ends with this stream open: close it if it still can be, say what was lost."""
        raise NotImplementedError

    # --- the end of a program, or of a driver's tasks ----------------------------------------------

    def _settle_with(self, close: Callable[[float], object]) -> None:
        """At exit: `close(bound_s)` the stream, bounded by its flush, recovery and callback
        timeouts (a `TimeoutError` past the bound), then report what could not be delivered."""
        options = self._plan.options
        bound_ms = (
            options.flush_timeout_ms + options.recovery_timeout_ms + (options.callback_max_wait_time_ms or 0)
        )
        reason = ""
        try:
            close(bound_ms / 1000 + 1.0)
        except ZerobusException as error:
            reason = exit_loss_reason(error, options.flush_timeout_ms)
        except TimeoutError:
            reason = f"close() did not finish within {bound_ms} ms"
        self._report_left_open(self._core.unacked_count, reason)

    def _report_left_open(self, undelivered: int, reason: str) -> None:
        report_left_open(self._plan.table.table_name, undelivered, reason, self._log_fields())

    def _abandon(self, why: str) -> None:
        """The driver's tasks ended before close(), so nothing can be sent any more: fail the
        stream (its records stay in `get_unacked_records()`) and report the loss now, while
        logging still works."""
        if self._core.state in TERMINAL_STATES:
            return
        forget(self)
        undelivered = self._core.unacked_count
        with self._guard:
            effects = self._core.fail(
                ZerobusException(f"the stream's tasks were cancelled before close(): {why}")
            )
        self._apply(effects)
        if undelivered:
            self._report_left_open(undelivered, f"its tasks were cancelled: {why}")

    # --- ingest without waiting -------------------------------------------------------------------

    def ingest_record_nowait(self, payload: Record) -> None:
        """Queue one record at once and return nothing; `flush()` and `close()` still wait for it.

        It never waits for the in-flight window (nor awaits, in asyncio), so a full window does
        not hold it up: the record is queued beyond `max_inflight_records`. A record that cannot
        be encoded, or a stream that no longer takes records, raises here as in `ingest_record_offset`.
        """
        encoded = self._encode(payload)
        with self._guard:
            self._core.submit(encoded)
            self._wake_sender()

    def ingest_records_nowait(self, payloads: Iterable[Record]) -> None:
        """Queue several records as one submission at once, like `ingest_record_nowait`."""
        encoded, nbytes = self._encoder.encode_many(payloads)
        if encoded:
            with self._guard:
                self._core.submit_many(encoded, nbytes)
                self._wake_sender()

    # --- pieces of the drivers' waits -------------------------------------------------------------

    def _opened(self, error: BaseException | None) -> None:
        """The first call opened (`error` None), or creation failed for good: raise its error."""
        if error is not None:
            self._failure_reported = True
            raise error
        remember(self)
        self._track()

    def _register_waiter(self, offset: int, waiter: Waiter) -> bool:
        """Wait for `offset` with `waiter`; False if it is durable already (raises if it never will be)."""
        with self._guard:
            return self._core.add_waiter(offset, waiter)

    def _waiter_timed_out(self, waiter: Waiter, what: str, timeout_s: float | None) -> StreamTimeoutError:
        """(Under `_guard`, the waiter unresolved.) Forget `waiter`; the error naming what was pending."""
        self._core.discard_waiter(waiter)
        return self._core.timeout_error(what, timeout_s or 0.0)

    def _waiter_outcome(self, error: BaseException | None) -> None:
        """A resolved waiter's `error`, raised as the stream's own (None: the offset is durable)."""
        if error is not None:
            raise self._core.rejection() from error

    def _timer_sleep_for(self) -> float | None:
        """(Under `_guard`.) How long the timer may sleep (None: until woken); remembers until when."""
        deadline = self._core.deadline()
        self._timer_until = float("inf") if deadline is None else deadline
        return self._core.next_timeout()

    def _timer_woke(self) -> Effects | None:
        """(Under `_guard`.) The timer woke: hand the current call's deadlines to the engine."""
        self._timer_until = 0.0  # awake: no pokes needed
        return self._core.on_timer(self._live_call_id) if self._live_call_id else None

    def _supervisor_crashed(self, bug: Exception) -> None:
        """A bug in the supervisor: fail the stream loudly rather than hang its users."""
        logger.exception("stream supervisor crashed", extra=self._log_fields())
        with self._guard:
            effects = self._core.fail(ZerobusException(f"internal error in the stream: {bug!r}", cause=bug))
        self._apply(effects)

    def _close_on_exit_failed(self, error: ZerobusException, exc_type: object) -> None:
        """Closing at the end of `with` / `async with` raised `error`: raise it, unless the block
        itself ended by an exception (`exc_type`): then log it and let the first one through."""
        if exc_type is None:
            raise error
        title = stream_title(self.stream_id, self._plan.table.table_name)
        logger.warning("closing %s after an error failed too: %s", title, error, extra=self._log_fields())

    def _track(self) -> None:
        """The stream is open: the SDK's stats count it from now on."""
        self._ledger.track(self)

    def _log_fields(self) -> dict[str, object]:
        """`extra=` for the drivers' log records about this stream (table, stream id, offsets)."""
        return self._core.log_fields()

    def _call_headers(self) -> list[tuple[str, str]]:
        """Metadata for a new call: a fresh token every time (blocking)."""
        return self._config.headers(self._plan.headers_provider, self._plan.table.table_name)

    def _call_error(self, rpc_error: BaseException) -> ZerobusException:
        """A failed call's error in our tree; refused credentials are invalidated first."""
        if self._config.channels.closed:  # the SDK was closed under the stream: nothing to recover
            details_of = getattr(rpc_error, "details", None)
            details = details_of() if callable(details_of) else rpc_error
            return NonRetriableException(
                f"the SDK was closed under the open stream ({details})", cause=rpc_error
            )
        error = explain_grpc_failure(rpc_error, self._config.endpoint)
        return self._refusals.call_ended(rpc_error, error) or error

    def _call_ended_cleanly(self) -> None:
        self._refusals.call_ended(None, None)

    def _on_response(self, call_id: int, response: EphemeralStreamResponse) -> None:
        """Feed one response of call `call_id` to the engine; carry out its effects outside `_guard`."""
        with self._guard:
            effects = self._core.on_response(call_id, response)
            self._poke_timer()
        if effects is not None:
            self._apply(effects)

    def _resolve(self, effects: Effects) -> None:
        """Wake released waiters and queue callbacks (never under a lock)."""
        error = effects.error
        for waiter in effects.released:
            waiter.resolve(error)
        if effects.acked is not None and self._callbacks.has_ack_callback:
            self._callbacks.acked(*effects.acked)
        if effects.failed is not None and error is not None:
            self._callbacks.failed(*effects.failed, error.message)

    def _take_failure(self) -> ZerobusException | None:
        """The terminal failure, the first time a caller asks for it (close() reports it once)."""
        failure = self._core.failure
        if failure is None or self._failure_reported:
            return None
        self._failure_reported = True
        return self._core.rejection()

    def _wait_callbacks(self) -> None:
        limit = self._plan.options.callback_max_wait_time_ms
        self._callbacks.drain(None if limit is None else limit / 1000)

    def _arrow_submissions(self, data: object) -> list[EncodedRecords]:
        """`ingest_arrow`'s records, all checked, in submissions that fit a request (`ArrowRows`)."""
        return self._arrow_rows.submissions(data)

    def _unacked_records(self) -> list[Payload]:
        with self._guard:
            return self._core.unacked_records()

    def _unacked_batches(self) -> list[list[Payload]]:
        with self._guard:
            return self._core.unacked_batches()
