"""The `databricks.zerobus.Zerobus/EphemeralStream` handler (grpclib, asyncio).

Why grpclib rather than grpcio's server: grpcio hands every message through its completion
queue and a thread switch, which costs too much CPU per request for one stream to keep up with
the service's per-stream record rate. grpclib parses HTTP/2 frames in the event loop, so a
native client's coalesced frames cost little per message. Any gRPC client (grpcio, the official Rust-backed SDK) talks to it unchanged.

One call = one `StreamCall`: a reader (validates each request, appends it to the table's log)
and a sender (acks what became durable, one cumulative ack per wake-up, close signals, the
final status). Everything runs in the event loop thread; the log's commit thread reports
durability through `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections import deque
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError
from grpclib.const import Cardinality, Handler, Status
from grpclib.encoding.base import CodecBase
from grpclib.exceptions import GRPCError

from zerobus.errors import InvalidRecordError
from zerobus.protocol import (
    METHOD_PATH,
    CloseStreamSignal,
    CreateIngestStreamResponse,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordResponse,
)
from zerobus.protocol.constants import ERROR_INVALID_RECORD, ERROR_STREAM_LIFETIME, error_code_text
from zerobus.server.decisions import Refusal, RefusalKind, ingest_table, stream_codec
from zerobus.server.faults import CallEnding
from zerobus.server.frontends.bounded_messages import CompressedMessage, MessageTooLarge, receive_message
from zerobus.server.rate_limit import paced_acks
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.log import LogClosed
from zerobus.server.storage.tables import TableRuntime
from zerobus.server.validation.records import RecordRejected, StreamRecordCodec

__all__ = ["INVALID_RECORD_ERROR", "LIFETIME_ERROR", "RawCodec", "StreamRegistry", "ZerobusService"]

logger = logging.getLogger(__name__)


class _ExpectedCancellations(logging.Filter):
    """Zerobus clients close a stream by cancelling the call (docs/PROTOCOL.md section 4), so grpclib's
    INFO line for each cancelled request is the normal end of a stream, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.levelno <= logging.INFO and record.getMessage().startswith("Request was cancelled")
        )


_EXPECTED_CANCELLATIONS = _ExpectedCancellations()


def quiet_expected_cancellations() -> None:
    """Drop grpclib's INFO line for every stream a client closed (idempotent)."""
    logging.getLogger("grpclib.server").addFilter(_EXPECTED_CANCELLATIONS)


SHUTDOWN_ERROR = "the local Zerobus server is shutting down"
LIFETIME_ERROR = (
    f"{error_code_text(ERROR_STREAM_LIFETIME)}: stream lifetime reached; the server closed the stream, "
    "recover on a new one"
)
INVALID_RECORD_ERROR = error_code_text(ERROR_INVALID_RECORD)


class RawCodec(CodecBase):
    """Hand messages through as bytes: we decode them ourselves (and log them untouched)."""

    __content_subtype__ = "proto"

    def encode(self, message: Any, message_type: Any) -> bytes:
        return bytes(message)

    def decode(self, data: bytes, message_type: Any) -> bytes:
        return data


# How each kind of refusal of the decision core (`zerobus.server.decisions`) reads on gRPC.
_REFUSAL_STATUS = {
    RefusalKind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    RefusalKind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    RefusalKind.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    RefusalKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    RefusalKind.UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
}


def _status(code: grpc.StatusCode) -> Status:
    return Status(code.value[0])


class _CallEnded(Exception):
    """Raised inside the reader to stop it; the sender sends the status."""


class StreamRegistry:
    """Open calls, for durability wake-ups, fault listeners and close signals (loop thread only)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.calls: set[StreamCall] = set()

    def on_durable(self, table: TableRuntime) -> None:
        """From the commit thread: wake the calls writing to `table`."""
        self.loop.call_soon_threadsafe(self._wake_table, table)

    def _wake_table(self, table: TableRuntime) -> None:
        for call in self.calls:
            if call.table is table:
                call.wake()

    def wake_all(self) -> None:
        def wake() -> None:
            for call in list(self.calls):
                call.wake()

        self.loop.call_soon_threadsafe(wake)

    async def end_all(self, timeout_s: float) -> None:
        """End every open call with UNAVAILABLE (retryable) and wait, at most `timeout_s`, for them."""
        for call in list(self.calls):
            call.end_now(CallEnding(grpc.StatusCode.UNAVAILABLE, SHUTDOWN_ERROR, store=False))
        deadline = self.loop.time() + timeout_s
        while self.calls and self.loop.time() < deadline:
            await asyncio.sleep(0.01)

    def close_signal_all(self, duration_s: float) -> int:
        """From any thread: send CloseStreamSignal to every open stream; returns how many."""

        async def signal() -> int:
            calls = [call for call in self.calls if call.accepted]
            for call in calls:
                call.signal_close(duration_s)
            return len(calls)

        return asyncio.run_coroutine_threadsafe(signal(), self.loop).result(timeout=10)


class StreamCall:
    """One EphemeralStream call from create_stream to its final status."""

    _ids = itertools.count(1)

    def __init__(self, stream: Any, core: ServerCore, registry: StreamRegistry) -> None:
        self.id = next(self._ids)
        self.stream = stream
        self.core = core
        self.registry = registry
        self.loop = registry.loop
        self.table: TableRuntime | None = None
        self.accepted = False
        self._event = asyncio.Event()
        self._pending: deque[tuple[int, int]] = deque()  # (log seq, offset_id) not yet durable
        self._ready: deque[tuple[float, int]] = deque()  # (ack due time, offset_id) durable
        self._acked = -1
        self._expected_offset = 0
        self._received = 0
        self._last_seq = -1
        self._client_done = False
        self._end_after_seq: int | None = None  # end once this seq is durable...
        self._end_with: CallEnding | None = None  # ...with this status
        self._end_now: CallEnding | None = None
        self._close_signals: list[bytes] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._ack_timer: asyncio.TimerHandle | None = None
        self._write_failures_seen = 0  # the table log's `write_failures` already looked at
        self._failed_seq: int | None = None  # the first of our seqs the log failed to write...
        self._failed_ending: CallEnding | None = None  # ...and how the call ends because of it
        self._pacer = paced_acks(core.config.stream_rate_limit, self.loop.time)
        self._pace_timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        self._event.set()

    # --- create_stream --------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            first = await receive_message(self.stream, self.core.config.max_request_bytes)
        except (MessageTooLarge, CompressedMessage) as error:
            raise self._reject(*self._refusal(error, "create_stream")) from None
        if first is None:
            return
        codec, prefix = await self._create(first)
        self.registry.calls.add(self)
        reader = asyncio.ensure_future(self._read(codec, prefix))
        try:
            await self._send_loop()
        finally:
            reader.cancel()
            for timer in self._timers:
                timer.cancel()
            if self._ack_timer is not None:
                self._ack_timer.cancel()
            if self._pace_timer is not None:
                self._pace_timer.cancel()
            self.registry.calls.discard(self)
            self.core.faults.forget_call(self.id)

    async def _create(self, raw: bytes) -> tuple[StreamRecordCodec, bytes]:
        core = self.core
        core.stats.create_stream_requests += 1
        try:
            request = EphemeralStreamRequest.FromString(raw)
        except DecodeError as error:
            raise self._reject(grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {error}") from None
        if request.WhichOneof("payload") != "create_stream":
            raise self._reject(
                grpc.StatusCode.INVALID_ARGUMENT, "the first message of a stream must be create_stream"
            )
        create = request.create_stream
        failure = core.faults.take_create_failure()
        if failure is not None:
            raise self._reject(failure.code, failure.message)
        try:
            table = ingest_table(core, self.stream.metadata or {}, create.table_name)
            chosen = stream_codec(create, table)
        except Refusal as refusal:
            raise self._refuse(refusal) from None
        codec, prefix = chosen.codec, chosen.prefix
        try:
            await self.loop.run_in_executor(
                None, table.add_codec, prefix[:1], prefix[1:], codec, chosen.persisted
            )
        except OSError as error:  # a full or failing disk: the client may retry later
            logger.error("table %s: saving a stream's descriptor failed: %s", table.entry.full_name, error)
            raise self._reject(
                grpc.StatusCode.UNAVAILABLE,
                f"the server could not save the stream's descriptor to disk ({error}); retry later",
            ) from None
        self.table = table
        self._write_failures_seen = table.log.write_failures
        self.accepted = True
        core.stats.streams_created += 1
        response = EphemeralStreamResponse(
            create_stream_response=CreateIngestStreamResponse(stream_id=str(uuid.uuid4()))
        )
        await self.stream.send_message(response.SerializeToString())
        lifetime = core.config.max_stream_duration_s
        if lifetime is not None:
            lead = min(core.config.close_signal_lead_s, lifetime)
            self._timers.append(self.loop.call_later(lifetime - lead, self.signal_close, lead))
        return codec, prefix

    def _reject(self, code: grpc.StatusCode, message: str) -> GRPCError:
        self.core.stats.streams_rejected += 1
        return GRPCError(_status(code), _status_text(message))

    def _refuse(self, refusal: Refusal) -> GRPCError:
        """The decision core's refusal as this wire's status."""
        return self._reject(_REFUSAL_STATUS[refusal.kind], refusal.message)

    # --- records ----------------------------------------------------------------------------------

    async def _read(self, codec: StreamRecordCodec, prefix: bytes) -> None:
        limit = self.core.config.max_request_bytes
        try:
            while True:
                try:
                    raw = await receive_message(self.stream, limit)
                except (MessageTooLarge, CompressedMessage) as refused:
                    self._fail(*self._refusal(refused, f"request at offset {self._expected_offset}"))
                if raw is None:
                    break
                try:
                    self._handle(raw, codec, prefix)
                except _CallEnded:
                    raise
                except Exception as error:
                    logger.exception("call %d: request at offset %d failed", self.id, self._expected_offset)
                    self._end_immediately(
                        CallEnding(grpc.StatusCode.INTERNAL, f"internal server error: {error!r}", store=False)
                    )
                    return
        except _CallEnded:
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a broken connection: nothing more to read
            logger.debug("call %d: reading ended: %r", self.id, error)
            self._end_immediately(CallEnding(None, "connection lost", store=False))
            return
        self._client_done = True
        self.wake()

    @staticmethod
    def _refusal(error: MessageTooLarge | CompressedMessage, what: str) -> tuple[grpc.StatusCode, str]:
        """The status refusing a message before its body was read."""
        if isinstance(error, CompressedMessage):
            return grpc.StatusCode.UNIMPLEMENTED, f"{what}: {error}"
        return (
            grpc.StatusCode.INVALID_ARGUMENT,
            f"{what} is {error.size} bytes, over the {error.limit}-byte limit ({error.limit / 2**20:g} MiB); "
            "send smaller batches",
        )

    def _handle(self, raw: bytes, codec: StreamRecordCodec, prefix: bytes) -> None:
        core = self.core
        try:
            request = codec.parse_request(raw)
        except DecodeError as error:
            self._fail(grpc.StatusCode.INVALID_ARGUMENT, f"malformed request: {error}")
        which = request.WhichOneof("payload")
        batch: Any = None  # the batch message, or None for a single record
        if which == "ingest_record":
            single = request.ingest_record
            offset = single.offset_id
            kind = single.WhichOneof("record")
            if kind != codec.record_field:
                self._wrong_kind(offset, kind, codec.format_name)
            payload = getattr(single, kind)
            count = 1
        elif which == "ingest_record_batch":
            batch_request = request.ingest_record_batch
            offset = batch_request.offset_id
            kind = batch_request.WhichOneof("batch")
            if kind is not None and kind != codec.batch_field:
                self._wrong_kind(offset, kind, codec.format_name)
            batch = getattr(batch_request, codec.batch_field)
            count = len(batch.records)
        else:
            self._fail(grpc.StatusCode.INVALID_ARGUMENT, f"unexpected {which} after create_stream")
        if offset != self._expected_offset:
            what = "a gap" if offset > self._expected_offset else "a duplicate or out-of-order offset"
            self._fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"offset_id {offset} is {what}: expected {self._expected_offset} (offsets start at 0 on every "
                "call and grow by 1 per request)",
            )
        self._expected_offset = offset + 1
        stats = core.stats
        stats.requests_received += 1
        stats.records_received += count
        stats.bytes_received += len(raw)
        ending = None
        if core.faults.call_faults_armed:
            ending = core.faults.check_records(self.id, self._received, count)
        self._received += count
        if ending is not None and not ending.store:
            self._stop_after(self._last_seq, ending)
        if batch is None:
            try:
                codec.check(payload)
            except InvalidRecordError as error:
                self._invalid_record(offset, count, 0, error)
        else:
            try:
                codec.check_batch(batch)
            except RecordRejected as rejected:
                self._invalid_record(offset, count, rejected.index, rejected.error)
        assert self.table is not None
        try:
            seq = self.table.log.append(prefix + raw)
        except LogClosed:
            self._fail(grpc.StatusCode.NOT_FOUND, f"table '{self.table.entry.full_name}' was dropped")
        stats.records_stored += count
        self._last_seq = seq
        if ending is not None:
            self._stop_after(seq, ending)
        self._pending.append((seq, offset))
        if self._pacer is not None:
            self._pacer.add(offset, count, len(raw))

    def _invalid_record(self, offset: int, count: int, index: int, error: InvalidRecordError) -> NoReturn:
        where = f"offset {offset}" if count == 1 else f"offset {offset} (record {index} of the batch)"
        self._fail(grpc.StatusCode.INVALID_ARGUMENT, f"{INVALID_RECORD_ERROR}: {where}: {error}")

    def _wrong_kind(self, offset: int, kind: str | None, expected: str) -> NoReturn:
        self._fail(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request at offset {offset} carries {kind or 'no record'}, but the stream was created for {expected} records",
        )

    def _fail(self, code: grpc.StatusCode, message: str) -> NoReturn:
        """A bad request: nothing of it is stored; the call ends once earlier requests are durable."""
        self.core.stats.requests_rejected += 1
        self._stop_after(self._last_seq, CallEnding(code, message, store=False))

    def _stop_after(self, seq: int, ending: CallEnding) -> NoReturn:
        self._end_after_seq = seq
        self._end_with = ending
        self.wake()
        raise _CallEnded

    def _end_immediately(self, ending: CallEnding) -> None:
        self._end_now = ending
        self.wake()

    def end_now(self, ending: CallEnding) -> None:
        """End the call at once with `ending` (loop thread)."""
        self._end_immediately(ending)

    # --- acks, signals, the end -------------------------------------------------------------------

    def signal_close(self, duration_s: float) -> None:
        """Send CloseStreamSignal(duration) now; end the call with 6002 after `duration_s`."""
        seconds = int(duration_s)
        nanos = round((duration_s - seconds) * 1e9)
        signal = CloseStreamSignal()
        signal.duration.seconds = seconds
        signal.duration.nanos = nanos
        self._close_signals.append(EphemeralStreamResponse(close_stream_signal=signal).SerializeToString())
        self._timers.append(
            self.loop.call_later(
                duration_s,
                self._end_immediately,
                CallEnding(grpc.StatusCode.UNAVAILABLE, LIFETIME_ERROR, False),
            )
        )
        self.wake()

    async def _send_loop(self) -> None:
        faults = self.core.faults
        stats = self.core.stats
        assert self.table is not None
        log = self.table.log
        while True:
            await self._event.wait()
            self._event.clear()
            while self._close_signals:
                await self.stream.send_message(self._close_signals.pop(0))
                stats.close_signals_sent += 1
            if self._end_now is not None:
                await self._finish(self._end_now)
                return
            durable = log.durable_seq
            if log.write_failures != self._write_failures_seen:
                self._note_write_failures()
                durable = log.durable_seq  # frames written before the failure count as durable
            failed_seq = self._failed_seq
            now = self.loop.time()
            delay = faults.ack_delay_s
            pending, ready = self._pending, self._ready
            while pending and pending[0][0] <= durable and (failed_seq is None or pending[0][0] < failed_seq):
                ready.append((now + delay, pending.popleft()[1]))
            ack_to = -1
            if not faults.acks_withheld:
                while ready and ready[0][0] <= now:
                    ack_to = ready.popleft()[1]
                if ready:
                    if self._ack_timer is not None:
                        self._ack_timer.cancel()
                    self._ack_timer = self.loop.call_at(ready[0][0], self.wake)
                if self._pacer is not None:
                    ack_to = self._pace(ack_to)
            if ack_to > self._acked:
                self._acked = ack_to
                await self.stream.send_message(self._ack_message(ack_to))
                stats.acks_sent += 1
            if self._failed_ending is not None:
                await self._finish(self._failed_ending)
                return
            if (
                self._end_with is not None
                and self._end_after_seq is not None
                and durable >= self._end_after_seq
            ):
                await self._finish(self._end_with)
                return
            if self._client_done and not pending and not ready and not self._pacer_holding:
                return  # half-closed by the client and everything acknowledged: status OK

    def _pace(self, due_to: int) -> int:
        """How far the ack may go now under the stream rate limit (requests up to `due_to` are due)."""
        assert self._pacer is not None
        self._pacer.make_eligible(due_to)
        released, retry_in = self._pacer.release()
        if retry_in is not None:
            self.core.stats.acks_paced += 1
            if self._pace_timer is not None:
                self._pace_timer.cancel()
            self._pace_timer = self.loop.call_later(retry_in, self.wake)
        return released

    @property
    def _pacer_holding(self) -> bool:
        return self._pacer is not None and self._pacer.holding

    def _ack_message(self, ack_to: int) -> bytes:
        """The serialized cumulative ack for every request up to offset `ack_to`."""
        response = EphemeralStreamResponse(
            ingest_record_response=IngestRecordResponse(durability_ack_up_to_offset=ack_to)
        )
        data: bytes = response.SerializeToString()
        return data

    def _note_write_failures(self) -> None:
        """Find the first of this call's unacknowledged requests the log failed to write."""
        assert self.table is not None
        log = self.table.log
        seen = self._write_failures_seen
        self._write_failures_seen = log.write_failures
        failures = log.failures_since(seen)
        for seq, offset in self._pending:
            if self._failed_seq is not None and seq >= self._failed_seq:
                break
            failure = (
                next((f for f in failures if f.first_seq <= seq <= f.last_seq), None) if failures else None
            )
            if failures is None or failure is not None:
                reason = failure.error if failure is not None else "several log writes failed"
                self._failed_seq = seq
                self._failed_ending = CallEnding(
                    grpc.StatusCode.UNAVAILABLE,
                    f"the server could not write the request at offset {offset} to disk ({reason}); it and "
                    "the requests after it were not acknowledged: retry them on a new stream",
                    store=False,
                )
                self.wake()
                return

    async def _finish(self, ending: CallEnding) -> None:
        if ending.code is None:
            try:
                await self.stream.cancel()
            except Exception as error:  # the connection may be gone already
                logger.debug("call %d: cancel failed: %r", self.id, error)
            return
        raise GRPCError(_status(ending.code), _status_text(ending.message))


def _status_text(message: str) -> str:
    """The message as a status can carry it: UTF-8, so a lone surrogate (say, in a field name a
    client sent) is spelled as an escape instead of failing the status itself."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


class ZerobusService:
    """The grpclib handler mapping for the one method of the service."""

    def __init__(self, core: ServerCore, registry: StreamRegistry) -> None:
        self.core = core
        self.registry = registry

    def __mapping__(self) -> dict[str, Handler]:
        return {METHOD_PATH: Handler(self.ephemeral_stream, Cardinality.STREAM_STREAM, bytes, bytes)}

    async def ephemeral_stream(self, stream: Any) -> None:
        self.core.stats.stream_calls += 1
        # The official client waits for response headers before it sends create_stream.
        await stream.send_initial_metadata()
        await StreamCall(stream, self.core, self.registry).run()
