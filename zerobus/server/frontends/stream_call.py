"""Internal: One EphemeralStream call: its setup (`create_stream`), then the request loop and the sender.

Setup reads the first message, which must be `create_stream`; the decision core
(`decisions.ingest_table`, `stream_codec`) says whether the caller may write the table and how
its records are read, and the stream's descriptor is saved before the stream is confirmed.
Then the reader (`stream_requests`) and the sender (`stream_acks`) run until the final status.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import grpc
from google.protobuf.message import DecodeError

from zerobus.protocol import CreateIngestStreamResponse, EphemeralStreamRequest, EphemeralStreamResponse
from zerobus.server.decisions import Refusal, ingest_table, stream_codec
from zerobus.server.frontends.bounded_messages import CompressedMessage, MessageTooLarge, receive_message
from zerobus.server.frontends.stream_requests import StreamRequests
from zerobus.server.validation.records import StreamRecordCodec

__all__ = ["StreamCall"]

logger = logging.getLogger(__name__)


class StreamCall(StreamRequests):
    """One EphemeralStream call from create_stream to its final status."""

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
        self._accept(table)
        response = EphemeralStreamResponse(
            create_stream_response=CreateIngestStreamResponse(stream_id=str(uuid.uuid4()))
        )
        await self.stream.send_message(response.SerializeToString())
        self._arm_lifetime()
        return codec, prefix
