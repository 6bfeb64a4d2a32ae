"""The parts of a stream that do not depend on how I/O is done, shared by both drivers.

The sequences that mix engine calls with waiting (the supervisor's reconnect loop, flush,
close) are written once here as generators, in the way httpx writes its auth flows: each
yields a `Step` naming the I/O to do, and the driver carries it out (blocking, or awaiting)
and sends the result back, or throws the error in. Engine calls are made under `_guard`: the
sync driver's lock, or nothing in the aio driver (one event loop, no await in between).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

from zerobus.engine import TERMINAL_STATES, Effects, StreamCore, StreamState, create_stream_request
from zerobus.engine.stats import StreamStats
from zerobus.errors import ZerobusException, from_grpc_error
from zerobus.sdk.shared.callbacks import CallbackDispatcher
from zerobus.sdk.shared.refusal import CredentialRefusals
from zerobus.sdk.shared.setup import SdkConfig, StreamPlan
from zerobus.sdk.shared.stats_ledger import ledger_for

__all__ = ["AckHandle", "Step", "Steps", "StreamBase"]


class Step(NamedTuple):
    """I/O for the driver: `run_call(call_id)`, `sleep(seconds)`, `wait(offset, timeout, what)`, `shutdown()`."""

    kind: str
    args: tuple[Any, ...] = ()


Steps = Generator[Step, Any, None]


class _DoneCallback:
    """A waiter that runs `function(offset)` on the callback thread once the offset is durable."""

    __slots__ = ("callbacks", "function", "offset")

    def __init__(self, callbacks: CallbackDispatcher, offset: int, function: Callable[[int], Any]) -> None:
        self.callbacks, self.offset, self.function = callbacks, offset, function

    def resolve(self, error: BaseException | None) -> None:
        if error is None:
            self.callbacks.call(self.function, self.offset)


class AckHandle:
    """The part of `RecordAcknowledgment` both drivers share (the waiting is driver-specific)."""

    __slots__ = ("_stream", "offset")

    def __init__(self, stream: StreamBase, offset: int) -> None:
        self._stream = stream
        self.offset = offset

    def is_done(self) -> bool:
        """True once the record is durable, or will never be (the stream failed)."""
        core = self._stream._core
        return core.is_durable(self.offset) or core.failure is not None

    done = is_done

    def add_done_callback(self, callback: Callable[[int], Any]) -> None:
        """Run `callback(offset)` once the record is durable: on the callback thread, or now if it is."""
        stream = self._stream
        waiter = _DoneCallback(stream._callbacks, self.offset, callback)
        with stream._guard:
            waiting = stream._core.failure is None and stream._core.add_waiter(self.offset, waiter)
        if not waiting and stream._core.is_durable(self.offset):
            callback(self.offset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(offset={self.offset}, done={self.is_done()})"


class StreamBase:
    """State, encoder, engine and callbacks of a stream; the drivers add the I/O."""

    _guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()

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

    # --- the official API's read-only parts ---------------------------------------------------

    @property
    def stream_id(self) -> str | None:
        """The server's id of the current call's stream (changes when the stream recovers)."""
        return self._core.stream_id

    @property
    def table_properties(self) -> Any:
        return self._plan.table

    @property
    def options(self) -> Any:
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
            error = yield Step("run_call", (call_id,))
            with self._guard:
                effects = core.on_call_ended(call_id, error)
            self._apply(effects)
            if effects.stop:
                return
            if effects.reconnect_in:
                yield Step("sleep", (effects.reconnect_in,))

    def _flush_steps(self) -> Steps:
        with self._guard:
            target = self._core.begin_flush()
        if target is None:
            return
        try:
            yield Step("wait", (target, self._core.config.flush_timeout_s, "flush"))
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
            yield Step("shutdown")
            raise failure
        if must_wait:
            try:
                yield Step("wait", (core.last_offset, core.config.flush_timeout_s, "close"))
            except ZerobusException as error:
                with self._guard:
                    self._failure_reported = True
                    effects = core.fail(error)
                self._apply(effects)
                yield Step("shutdown")
                raise
        with self._guard:
            effects = core.finish_close()
        self._apply(effects)
        yield Step("shutdown")

    # --- hooks and helpers for the drivers ------------------------------------------------------

    def _apply(self, effects: Effects) -> None:
        """Carry out the engine's effects (driver-specific wake-ups, then `_resolve`)."""
        raise NotImplementedError

    def _apply_wake(self) -> None:
        effects = Effects()
        effects.wake_all = True
        self._apply(effects)

    def _track(self) -> None:
        """The stream is open: the SDK's stats count it from now on."""
        self._ledger.track(self)

    def _log_fields(self) -> dict[str, Any]:
        """`extra=` for the drivers' log records about this stream (table, stream id, offsets)."""
        return self._core.log_fields()

    def _call_headers(self) -> list[tuple[str, str]]:
        """Metadata for a new call: a fresh token every time (blocking)."""
        return self._config.headers(self._plan.headers_provider, self._plan.table.table_name)

    def _call_error(self, rpc_error: BaseException) -> ZerobusException:
        """A failed call's error in our tree; refused credentials are invalidated first."""
        error = from_grpc_error(rpc_error, host=self._config.endpoint.host)
        return self._refusals.call_ended(rpc_error, error) or error

    def _call_ended_cleanly(self) -> None:
        self._refusals.call_ended(None, None)

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

    def _unacked(self, batches: bool) -> list[Any]:
        with self._guard:
            return self._core.unacked_batches() if batches else self._core.unacked_records()
