"""Internal: The asyncio stream: the engine driven by tasks and `grpc.aio`.

One event loop owns the stream, so no lock is needed: every engine call happens between two
awaits. Tasks of one stream: the supervisor (opens calls, reads responses, reconnects as the
engine decides), the timer (sleeps until the engine's next deadline and hands it over) and, per
call, a sender that writes what the engine gives it and sleeps while there is nothing. Blocking
work (OAuth token requests) runs on threads of its own (`run_blocking`: unlike the default
executor, it still works while the interpreter exits). Callbacks run on the `CallbackDispatcher`
thread, as in the sync SDK. A stream left open is settled at exit (`sdk.shared.unclosed`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Generator, Iterable, Iterator
from typing import cast

import grpc
import grpc.aio

from zerobus.engine import TERMINAL_STATES, Effects, records_request
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol import METHOD_PATH, EphemeralStreamResponse
from zerobus.sdk.aio.blocking import run_blocking
from zerobus.sdk.shared import steps
from zerobus.sdk.shared.ack_handle import AckHandle
from zerobus.sdk.shared.closing import AsyncClosingContext
from zerobus.sdk.shared.stream_base import Record, StreamBase
from zerobus.sdk.shared.stream_plan import SdkConfig, StreamPlan
from zerobus.sdk.shared.unclosed import forget

__all__ = ["RecordAcknowledgment", "ZerobusStream"]

logger = logging.getLogger(__name__)

# Ingest calls that never await anything would starve the sender: let it run this often. Fewer
# records between turns make smaller requests; more hold the loop longer.
_YIELD_EVERY = 2048
_CANCELLED = "its event loop is shutting down, or its SDK was closed"


class _FutureWaiter:
    """A waiter for the engine: an asyncio future (resolved on the stream's loop)."""

    __slots__ = ("error", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.future: asyncio.Future[None] = loop.create_future()
        self.error: BaseException | None = None

    def resolve(self, error: BaseException | None) -> None:
        self.error = error
        if not self.future.done():
            self.future.set_result(None)


class RecordAcknowledgment(AckHandle):
    """What `await stream.ingest_record(r)` gives: await it for the record's offset once durable."""

    __slots__ = ()

    def __await__(self) -> Generator[object, None, int]:
        return self.wait_for_ack().__await__()

    async def wait_for_ack(self, timeout_sec: float | None = None) -> int:
        await cast(ZerobusStream, self._stream).wait_for_offset(self.offset, timeout_sec)
        return self.offset


class ZerobusStream(StreamBase, AsyncClosingContext):
    """A stream of records into one table, for asyncio. Safe to use from many tasks of one loop.

    Not constructed by users: `ZerobusSdk.create_stream` (and `recreate_stream`, stream pools)
    make it from the SDK's settings, as the official SDK's streams are made by its SDK.
    """

    def __init__(self, config: SdkConfig, plan: StreamPlan, channel: grpc.aio.Channel) -> None:
        super().__init__(config, plan)
        self._channel = channel  # held: gRPC closes a channel nobody holds
        self._open_call = channel.stream_stream(
            METHOD_PATH, request_serializer=None, response_deserializer=EphemeralStreamResponse.FromString
        )
        self._loop = asyncio.get_running_loop()
        self._work = asyncio.Event()
        self._state_changed = asyncio.Event()
        self._space: list[asyncio.Future[None]] = []
        self._since_yield = 0
        # The per-record path, compiled once (`zerobus.engine.submissions`). No lock: everything
        # runs in the event loop's thread. A record it cannot queue at once (-1) is parked,
        # encoded, for the general path, which may await: no record is encoded twice.
        self._parked: bytes | str = b""
        self._ingest_one = self._core.submissions.compile_ingest_one(
            self._encoder, None, self._work.set, self._park
        )
        self._call: grpc.aio.StreamStreamCall | None = None
        self._cancelled_by_us = False
        self._supervisor: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._timer_event = asyncio.Event()
        self._notify_sender, self._notify_timer = self._work.set, self._timer_event.set

    async def _open(self) -> None:
        opened = _FutureWaiter(self._loop)
        self._core.add_open_waiter(opened)
        name = self._plan.table.table_name
        self._supervisor = asyncio.create_task(self._supervise(), name=f"zerobus-stream-{name}")
        self._timer = asyncio.create_task(self._watch(), name=f"zerobus-timer-{name}")
        await opened.future
        self._opened(opened.error)

    # --- ingest -------------------------------------------------------------------------------------

    async def ingest_record_offset(self, payload: Record) -> int:
        """Queue one record; returns its logical offset (awaits only when the window is full)."""
        offset = self._ingest_one(payload)
        if offset < 0:  # window full, closing, or a large record: the general path
            offset = await self._queue_payload(self._take_parked())
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            self._since_yield = 0
            await asyncio.sleep(0)
        return offset

    def _park(self, payload: bytes | str) -> int:
        """The compiled path's fallback: keep the encoded record for `_take_parked` (it cannot await)."""
        self._parked = payload
        return -1

    def _take_parked(self) -> bytes | str:
        """The record the compiled path just parked (between the two, nothing else runs)."""
        payload, self._parked = self._parked, b""
        return payload

    async def _queue_payload(self, payload: bytes | str) -> int:
        """The general path of one encoded record: wait for the window, then queue it."""
        await self._wait_for_space(1)
        offset = self._core.submit(payload)
        self._wake_sender()
        return offset

    async def ingest_record(self, payload: Record) -> RecordAcknowledgment:
        """Queue one record; returns an awaitable acknowledgment (``await (await s.ingest_record(r))``)."""
        return RecordAcknowledgment(self, await self.ingest_record_offset(payload))

    async def ingest_records_offset(self, payloads: Iterable[Record]) -> int | None:
        """Queue several records as one submission (one offset, one request); None for an empty list."""
        encoded, nbytes = self._encoder.encode_many(payloads)
        if not encoded:
            return None
        await self._wait_for_space(len(encoded))
        offset = self._core.submit_many(encoded, nbytes)
        self._wake_sender()
        await asyncio.sleep(0)
        return offset

    async def ingest_arrow(self, data: object) -> int | None:
        """Queue the rows of Arrow data as records; returns the last one's offset (None if no rows).

        `data`: a pyarrow Table or RecordBatch, or a DataFrame exporting the Arrow PyCapsule
        interface (pandas, polars). Every row is checked before the first is queued.
        """
        offset = None
        for submission in self._arrow_submissions(data):
            offset = await self.ingest_records_offset(submission)
        return offset

    async def _wait_for_space(self, records: int) -> None:
        """Until the window has room, or the stream stops accepting records."""
        while self._core.must_wait_for_space(records):
            future = self._loop.create_future()
            self._space.append(future)
            await future

    # --- waiting ------------------------------------------------------------------------------------

    async def wait_for_offset(self, offset: int, timeout_sec: float | None = None) -> None:
        """Until the submission with logical `offset` is durable (honours `timeout_sec`)."""
        await self._wait(offset, timeout_sec, f"waiting for offset {offset}")

    async def flush(self) -> None:
        """Until everything ingested before this call is durable (`flush_timeout_ms`)."""
        await self._drive(self._flush_steps())

    async def close(self) -> None:
        """Flush, then end the stream. Idempotent; raises the real error if the stream failed."""
        forget(self)
        try:
            await self._drive(self._close_steps())
        finally:
            if self._config.channels.release(self._channel):  # a connection of its own
                await self._channel.close()

    def _settle_at_exit(self) -> None:
        """The program ends with this stream open (called from the exit hook's thread).

        If the stream's loop still runs (in another thread), close the stream there, bounded
        by `flush_timeout_ms`; otherwise nothing can be sent any more: report what is lost.
        """
        loop = self._loop
        if loop.is_running() and not loop.is_closed():
            self._settle_with(self._close_from_another_thread)
        else:
            self._report_left_open(self._core.unacked_count, "its event loop was no longer running at exit")

    def _close_from_another_thread(self, bound_s: float) -> None:
        closing = asyncio.run_coroutine_threadsafe(self.close(), self._loop)
        try:
            closing.result(bound_s)
        except concurrent.futures.TimeoutError:
            if closing.done():  # close() itself timed out: its own error
                raise
            closing.cancel()
            raise TimeoutError(f"close() did not finish within {bound_s} s") from None

    async def get_unacked_records(self) -> Iterator[bytes | str]:
        """Every record not yet acknowledged, in ingest order, as encoded payloads."""
        return iter(self._unacked_records())

    async def get_unacked_batches(self) -> Iterator[list[bytes | str]]:
        """The unacknowledged records grouped by ingest call (one list per submission)."""
        return iter(self._unacked_batches())

    # --- carrying out the shared steps ----------------------------------------------------------------

    async def _drive(self, sequence: steps.Steps) -> None:
        """Step a shared sequence (`StreamBase`), awaiting each step's I/O."""
        result: steps.StepResult = None
        error: ZerobusException | None = None
        while (step := steps.advance(sequence, result, error)) is not None:
            result = error = None
            try:
                result = await self._carry_out(step)
            except ZerobusException as raised:
                error = raised

    async def _carry_out(self, step: steps.Step) -> steps.StepResult:
        match step:
            case steps.RunCall(call_id):
                return await self._run_call(call_id)
            case steps.Sleep(seconds):
                await self._sleep(seconds)
            case steps.Wait(offset, timeout_s, what):
                await self._wait(offset, timeout_s, what)
            case steps.Shutdown():
                await self._shutdown()
            case _:
                steps.unknown_step(step)
        return None

    async def _wait(self, offset: int, timeout_s: float | None, what: str) -> None:
        """Until `offset` is durable, at most `timeout_s`."""
        waiter = _FutureWaiter(self._loop)
        if not self._register_waiter(offset, waiter):
            return
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), timeout_s)
        except asyncio.TimeoutError:
            if not waiter.future.done():
                raise self._waiter_timed_out(waiter, what, timeout_s) from None
        self._waiter_outcome(waiter.error)

    async def _sleep(self, seconds: float) -> None:
        """Back off for `seconds`, cut short only by the stream closing or failing."""
        deadline = self._loop.time() + seconds
        while self._core.state not in TERMINAL_STATES and (left := deadline - self._loop.time()) > 0:
            self._state_changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._state_changed.wait(), left)

    async def _shutdown(self) -> None:
        self._apply_wake()
        task = self._supervisor
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=self._core.config.recovery_timeout_s)
        await run_blocking(self._wait_callbacks, name="zerobus-wait-callbacks")

    async def _supervise(self) -> None:
        try:
            await self._drive(self._supervisor_steps())
        except asyncio.CancelledError:
            self._abandon(_CANCELLED)
            raise
        except Exception as bug:
            self._supervisor_crashed(bug)

    async def _run_call(self, call_id: int) -> ZerobusException | None:
        """Open call `call_id` and read its responses into the engine; returns the error that ended it."""
        try:
            headers = await run_blocking(self._call_headers, name="zerobus-call-headers")
        except ZerobusException as error:
            return error
        try:
            call = self._open_call(metadata=headers)
        except (grpc.aio.UsageError, ValueError, RuntimeError) as closed:
            return NonRetriableException(f"the SDK's gRPC channel is closed: {closed}", cause=closed)
        self._call, self._live_call_id, self._cancelled_by_us = call, call_id, False
        if self._core.state in TERMINAL_STATES:  # closed or failed while the token was fetched
            self._cancelled_by_us = True
            call.cancel()
        self._poke_timer()
        sender = asyncio.create_task(self._send_requests(call, call_id))
        try:
            return await self._read(call, call_id)
        finally:
            self._call, self._live_call_id = None, 0
            sender.cancel()
            self._work.set()

    async def _read(self, call: grpc.aio.StreamStreamCall, call_id: int) -> ZerobusException | None:
        try:
            while (response := await call.read()) is not grpc.aio.EOF:
                self._on_response(call_id, response)
        except grpc.RpcError as error:
            return self._call_error(error)
        except asyncio.CancelledError:
            if not self._cancelled_by_us:
                raise  # our task was cancelled, not the call
            return ZerobusException("stream call cancelled by the client")
        self._call_ended_cleanly()
        return None

    async def _send_requests(self, call: grpc.aio.StreamStreamCall, call_id: int) -> None:
        """The sender of one call: the create request, then whatever the engine hands out."""
        core, json = self._core, self._core.json
        try:
            await call.write(self._create_request)
            while self._live_call_id == call_id:
                item = core.next_request(call_id)
                if item is None:
                    await self._idle()
                    continue
                self._poke_timer()
                if call.done():
                    # The server already ended the call. Writing now would make grpc.aio replace
                    # the server's status with "Internal error from Core" (grpc/grpc#36066).
                    return
                await call.write(records_request(item[0], item[1], json))
        except (grpc.RpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as error:
            logger.debug("sender of stream %s stopped: %s", self.stream_id, error, extra=self._log_fields())

    async def _idle(self) -> None:
        self._work.clear()
        self._core.sender_sleeps()
        try:
            await self._work.wait()
        finally:
            self._core.sender_woke()

    async def _watch(self) -> None:
        """The timer task: hand every deadline of the current call to the engine."""
        while self._core.state not in TERMINAL_STATES:
            timeout = self._timer_sleep_for()
            self._timer_event.clear()
            if timeout is None or timeout > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._timer_event.wait(), timeout)
            effects = self._timer_woke()
            if effects is not None:
                self._apply(effects)

    def _apply(self, effects: Effects) -> None:
        """Carry out the engine's effects: wake tasks, resolve waiters, cancel the call."""
        if effects.wake_all:
            self._work.set()
            self._state_changed.set()
            if effects.stop or effects.error is not None:
                self._timer_event.set()
            space, self._space = self._space, []
            for future in space:
                if not future.done():
                    future.set_result(None)
        if effects.cancel_call and self._call is not None:
            self._cancelled_by_us = True
            self._call.cancel()
        self._resolve(effects)
