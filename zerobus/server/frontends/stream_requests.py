"""Internal: The reading half of a stream call: each request checked, then appended to the table's log.

A request is read with its size checked first (`bounded_messages`), must carry the next
offset and the stream's record kind, and every record in it must pass the stream's codec; a
request that fails any check is not stored at all, and the call ends once the requests before
it are durable. Accepted requests are appended to the log as received (one frame each).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NoReturn

import grpc
from google.protobuf.message import DecodeError

from zerobus.errors import InvalidRecordError
from zerobus.server.faults import CallEnding
from zerobus.server.frontends.bounded_messages import CompressedMessage, MessageTooLarge, receive_message
from zerobus.server.frontends.stream_acks import StreamAcks
from zerobus.server.frontends.stream_state import INVALID_RECORD_ERROR, CallEnded
from zerobus.server.storage.log import LogClosed
from zerobus.server.validation.records import RecordRejected, StreamRecordCodec

__all__ = ["StreamRequests"]

logger = logging.getLogger(__name__)


class StreamRequests(StreamAcks):
    """The request loop of a call, after its setup (`stream_call`)."""

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
                except CallEnded:
                    raise
                except Exception as error:
                    logger.exception("call %d: request at offset %d failed", self.id, self._expected_offset)
                    self._end_immediately(
                        CallEnding(grpc.StatusCode.INTERNAL, f"internal server error: {error!r}", store=False)
                    )
                    return
        except CallEnded:
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
