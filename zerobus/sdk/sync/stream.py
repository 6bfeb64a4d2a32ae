"""Internal: The synchronous stream: the engine driven by threads and grpc's blocking streaming API.

Threads of one stream:

- the caller's threads, ingesting (one lock acquisition per record; they block only when the
  in-flight window is full);
- the supervisor: opens each call (fresh headers), reads its responses into the engine, and
  after the call ends sleeps and reconnects as the engine decides;
- grpc's request thread, which pulls from `_send_requests()`: the sender. It takes what the
  engine says to send and sleeps while there is nothing;
- the timer: sleeps until the engine's next deadline (lack of acks, creation, close-signal
  pause) and hands it to the engine. It is its own thread so that a server that stops reading
  (the sender blocked in grpc's flow control) is still noticed;
- the callback thread of `CallbackDispatcher`, only when there are callbacks.

All protocol decisions are the engine's; this module only moves bytes and wakes threads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from typing import cast

import grpc

from zerobus.engine import TERMINAL_STATES, Effects, records_request
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol import METHOD_PATH, EphemeralStreamResponse
from zerobus.sdk.shared import steps
from zerobus.sdk.shared.ack_handle import AckHandle
from zerobus.sdk.shared.closing import ClosingContext
from zerobus.sdk.shared.stream_base import Record, StreamBase
from zerobus.sdk.shared.stream_plan import SdkConfig, StreamPlan
from zerobus.sdk.shared.unclosed import forget

__all__ = ["RecordAcknowledgment", "ZerobusStream"]

logger = logging.getLogger(__name__)


class _Event:
    """A waiter for the engine: an event plus the error it was resolved with."""

    __slots__ = ("error", "event")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.error: BaseException | None = None

    def resolve(self, error: BaseException | None) -> None:
        self.error = error
        self.event.set()


class RecordAcknowledgment(AckHandle):
    """The acknowledgment of one record ingested with `ingest_record` (a future-like object)."""

    __slots__ = ()

    def wait_for_ack(self, timeout_sec: float | None = None) -> int:
        """Block until the record is durable and return its offset.

        Raises `StreamTimeoutError` (a `ZerobusException` and a `TimeoutError`) after
        `timeout_sec`, or the stream's error if it failed first.
        """
        cast(ZerobusStream, self._stream).wait_for_offset(self.offset, timeout_sec)
        return self.offset

    result = wait_for_ack


class ZerobusStream(StreamBase, ClosingContext):
    """A stream of records into one table. Thread-safe: ingest from as many threads as you like.

    Not constructed by users: `ZerobusSdk.create_stream` (and `recreate_stream`, stream pools)
    make it from the SDK's settings, as the official SDK's streams are made by its SDK.
    """

    def __init__(self, config: SdkConfig, plan: StreamPlan, channel: grpc.Channel) -> None:
        super().__init__(config, plan)
        self._channel = channel  # held: gRPC closes a channel nobody holds
        self._open_call = channel.stream_stream(
            METHOD_PATH, request_serializer=None, response_deserializer=EphemeralStreamResponse.FromString
        )
        self._lock = threading.Lock()
        self._guard = self._lock
        self._sender_wake = threading.Condition(self._lock)
        self._state_changed = threading.Condition(self._lock)
        # Each stream runs its own compiled copy of the per-record path (see the method below),
        # unless a subclass overrides the method: then the override is what runs.
        if type(self).ingest_record_offset is ZerobusStream.ingest_record_offset:
            compiled = self._core.submissions.compile_ingest_one(
                self._encoder, self._lock, self._sender_wake.notify, self._queue_payload
            )
            compiled.__name__ = compiled.__qualname__ = "ingest_record_offset"
            compiled.__doc__ = ZerobusStream.ingest_record_offset.__doc__
            self.ingest_record_offset = compiled  # type: ignore[method-assign,assignment]
        self._blocked = 0
        self._call: grpc.Call | None = None
        self._cancel_requested = False
        self._timer_wake = threading.Condition(self._lock)
        self._notify_sender, self._notify_timer = self._sender_wake.notify, self._timer_wake.notify
        name = plan.table.table_name
        self._supervisor = threading.Thread(
            target=self._supervise, name=f"zerobus-stream-{name}", daemon=True
        )
        self._timer = threading.Thread(target=self._watch, name=f"zerobus-timer-{name}", daemon=True)

    # --- opening ----------------------------------------------------------------------------------

    def _open(self) -> None:
        """Start the supervisor and block until the first call is open (or creation failed)."""
        opened = _Event()
        with self._lock:
            self._core.add_open_waiter(opened)
        self._supervisor.start()
        self._timer.start()
        opened.event.wait()
        self._opened(opened.error)

    # --- ingest -------------------------------------------------------------------------------------

    def ingest_record_offset(self, payload: Record) -> int:
        """Queue one record; returns its logical offset at once (no waiting for the server).

        Blocks only while the in-flight window is full. Each stream replaces this method with
        its engine's compiled per-record path (`zerobus.engine.submissions`): the same steps in
        one closure, which hands anything unusual, encoded already, to `_queue_payload`.
        """
        return self._queue_payload(self._encode(payload))

    def _queue_payload(self, payload: bytes | str) -> int:
        """The general path of one encoded record: wait for the window, then queue it."""
        with self._lock:
            self._wait_for_space(1)
            offset = self._core.submit(payload)
            self._wake_sender()
        return offset

    def ingest_record(self, payload: Record) -> RecordAcknowledgment:
        """Queue one record; returns a `RecordAcknowledgment` to wait on."""
        return RecordAcknowledgment(self, self.ingest_record_offset(payload))

    def ingest_records_offset(self, payloads: Iterable[Record]) -> int | None:
        """Queue several records as one submission: one logical offset, sent in one request.

        Returns None for an empty list.
        """
        encoded, nbytes = self._encoder.encode_many(payloads)
        if not encoded:
            return None
        with self._lock:
            self._wait_for_space(len(encoded))
            offset = self._core.submit_many(encoded, nbytes)
            self._wake_sender()
        return offset

    def ingest_arrow(self, data: object) -> int | None:
        """Queue the rows of Arrow data as records; returns the last one's offset (None if no rows).

        `data`: a pyarrow Table or RecordBatch, or a DataFrame exporting the Arrow PyCapsule
        interface (pandas, polars). Every row is checked before the first is queued.
        """
        offset = None
        for submission in self._arrow_submissions(data):
            offset = self.ingest_records_offset(submission)
        return offset

    def _wait_for_space(self, records: int) -> None:
        """(Lock held.) Block until the window has room, or the stream stops accepting records."""
        core = self._core
        if not core.must_wait_for_space(records):
            return
        self._blocked += 1
        try:
            while core.must_wait_for_space(records):
                self._state_changed.wait()
        finally:
            self._blocked -= 1

    # --- waiting ------------------------------------------------------------------------------------

    def wait_for_offset(self, offset: int, timeout_sec: float | None = None) -> None:
        """Block until the submission with logical `offset` is durable (honours `timeout_sec`)."""
        self._wait(offset, timeout_sec, f"waiting for offset {offset}")

    def flush(self) -> None:
        """Block until everything ingested before this call is durable (`flush_timeout_ms`)."""
        self._drive(self._flush_steps())

    # --- closing ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Flush, then end the stream. Idempotent; raises the real error if the stream failed."""
        forget(self)
        try:
            self._drive(self._close_steps())
        finally:
            if self._config.channels.release(self._channel):  # a connection of its own
                self._channel.close()

    def _settle_at_exit(self) -> None:
        """The program ends with this stream open: close it (bounded by `flush_timeout_ms`), say what was lost."""
        self._settle_with(lambda _bound_s: self.close())

    # --- what is left -------------------------------------------------------------------------------

    def get_unacked_records(self) -> Iterator[bytes | str]:
        """Every record not yet acknowledged, in ingest order, as encoded payloads."""
        return iter(self._unacked_records())

    def get_unacked_batches(self) -> Iterator[list[bytes | str]]:
        """The unacknowledged records grouped by ingest call (one list per submission)."""
        return iter(self._unacked_batches())

    # --- carrying out the shared steps ----------------------------------------------------------------

    def _drive(self, sequence: steps.Steps) -> None:
        """Step a shared sequence (`StreamBase`), doing each step's I/O by blocking."""
        result: steps.StepResult = None
        error: ZerobusException | None = None
        while (step := steps.advance(sequence, result, error)) is not None:
            result = error = None
            try:
                result = self._carry_out(step)
            except ZerobusException as raised:
                error = raised

    def _carry_out(self, step: steps.Step) -> steps.StepResult:
        match step:
            case steps.RunCall(call_id):
                return self._run_call(call_id)
            case steps.Sleep(seconds):
                self._sleep(seconds)
            case steps.Wait(offset, timeout_s, what):
                self._wait(offset, timeout_s, what)
            case steps.Shutdown():
                self._shutdown()
            case _:
                steps.unknown_step(step)
        return None

    def _wait(self, offset: int, timeout_s: float | None, what: str) -> None:
        """Block until `offset` is durable, at most `timeout_s`."""
        waiter = _Event()
        if not self._register_waiter(offset, waiter):
            return
        if not waiter.event.wait(timeout_s):
            with self._lock:
                if not waiter.event.is_set():
                    raise self._waiter_timed_out(waiter, what, timeout_s)
        self._waiter_outcome(waiter.error)

    def _sleep(self, seconds: float) -> None:
        """Back off for `seconds`, cut short only by the stream closing or failing."""
        with self._lock:
            self._state_changed.wait_for(lambda: self._core.state in TERMINAL_STATES, seconds)

    def _shutdown(self) -> None:
        self._apply_wake()
        with self._lock:
            self._timer_wake.notify()
        if self._supervisor.is_alive() and self._supervisor is not threading.current_thread():
            self._supervisor.join(self._core.config.recovery_timeout_s)
        self._wait_callbacks()

    # --- the supervisor thread --------------------------------------------------------------------

    def _supervise(self) -> None:
        try:
            self._drive(self._supervisor_steps())
        except Exception as bug:
            self._supervisor_crashed(bug)

    def _run_call(self, call_id: int) -> ZerobusException | None:
        """Open call `call_id` and read its responses into the engine; returns the error that ended it."""
        try:
            headers = self._call_headers()
        except ZerobusException as headers_error:
            return headers_error
        with self._lock:
            self._live_call_id = call_id
            self._poke_timer()
        try:
            call = self._open_call(self._send_requests(call_id), metadata=headers)
        except ValueError as closed:  # grpc refuses calls on a closed channel
            return NonRetriableException(f"the SDK's gRPC channel is closed: {closed}", cause=closed)
        with self._lock:
            self._call = call
            # Cancelled before it existed: doomed by the timer, or closed/failed meanwhile.
            cancel = self._cancel_requested or self._core.state in TERMINAL_STATES
        if cancel:
            call.cancel()
        try:
            for response in call:
                self._on_response(call_id, response)
            self._call_ended_cleanly()
            return None
        except grpc.RpcError as rpc_error:
            return self._call_error(rpc_error)
        finally:
            with self._lock:
                self._call = None
                self._live_call_id = 0
                self._cancel_requested = False
                self._sender_wake.notify_all()

    def _send_requests(self, call_id: int) -> Iterator[bytes]:
        """The sender: what grpc's request thread sends on call `call_id`."""
        yield self._create_request
        core, lock, json = self._core, self._lock, self._core.json
        while True:
            with lock:
                while (item := core.next_request(call_id)) is None:
                    if self._live_call_id != call_id:
                        return
                    core.sender_sleeps()
                    self._sender_wake.wait()
                    core.sender_woke()
                self._poke_timer()
            yield records_request(item[0], item[1], json)

    def _watch(self) -> None:
        """The timer thread: hand every deadline of the current call to the engine."""
        while True:
            with self._lock:
                if self._core.state in TERMINAL_STATES:
                    return
                timeout = self._timer_sleep_for()
                if timeout is None or timeout > 0:
                    self._timer_wake.wait(timeout)
                effects = self._timer_woke()
            if effects is not None:
                self._apply(effects)

    def _apply(self, effects: Effects) -> None:
        """Carry out the engine's effects: wake threads, resolve waiters, cancel the call."""
        if effects.wake_all:
            with self._lock:
                if self._blocked or effects.stop or effects.error is not None:
                    self._state_changed.notify_all()
                    self._timer_wake.notify()
                self._wake_sender()
        if effects.cancel_call:
            with self._lock:
                call = self._call
                if call is None:
                    self._cancel_requested = True
            if call is not None:
                call.cancel()
        self._resolve(effects)
