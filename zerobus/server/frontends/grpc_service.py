"""Internal: The `databricks.zerobus.Zerobus/EphemeralStream` handler (grpclib, asyncio).

Why grpclib rather than grpcio's server: grpcio hands every message through its completion
queue and a thread switch, which costs too much CPU per request for one stream to keep up with
the service's per-stream record rate. grpclib parses HTTP/2 frames in the event loop, so a
native client's coalesced frames cost little per message. Any gRPC client (grpcio, the official
Rust-backed SDK) talks to it unchanged.

One call = one `StreamCall` (`stream_call`): a reader (`stream_requests`: validates each
request, appends it to the table's log) and a sender (`stream_acks`: acks what became durable,
one cumulative ack per wake-up, close signals, the final status). Everything runs in the event
loop thread; the log's commit thread reports durability through `loop.call_soon_threadsafe`
(`stream_registry`).
"""

from __future__ import annotations

import logging
from typing import Any

from grpclib.const import Cardinality, Handler
from grpclib.encoding.base import CodecBase

from zerobus.protocol import METHOD_PATH
from zerobus.server.frontends.stream_call import StreamCall
from zerobus.server.frontends.stream_registry import StreamRegistry
from zerobus.server.server_core import ServerCore

__all__ = ["RawCodec", "ZerobusService", "quiet_expected_cancellations"]


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


class RawCodec(CodecBase):
    """Hand messages through as bytes: we decode them ourselves (and log them untouched)."""

    __content_subtype__ = "proto"

    def encode(self, message: Any, message_type: Any) -> bytes:
        return bytes(message)

    def decode(self, data: bytes, message_type: Any) -> bytes:
        return data


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
