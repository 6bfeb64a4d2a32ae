"""Internal: Receive one gRPC message with its size checked before its body is read.

grpclib's `Stream.recv_message` reads the 5-byte gRPC prefix (compressed flag, big-endian
length) and then waits for the whole body, however large the prefix says it is: a client
announcing 400 MiB made the server buffer 400 MiB before the request could be refused. Here the
length is checked first; an oversized message is refused with its body unread, so HTTP/2 flow
control keeps the client from sending more than one window of it, and grpclib acknowledges
(discards) what was buffered when the call ends.

This is the one place the server reads a grpclib internal: the protocol-level stream
(`Stream._stream`), the one layer where the prefix is visible. grpclib has no public receive
limit (its `Configuration` has none, and `recv_message` reads the whole body first), so no
public API can refuse a message before buffering it. tests/server/test_transport.py fails
loudly if grpclib stops storing that stream there. grpclib's receive-side event hooks are not
dispatched (the server registers none).
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["CompressedMessage", "MessageTooLarge", "receive_message"]

_PREFIX = struct.Struct(">?I")


class MessageTooLarge(Exception):
    """The gRPC length prefix announces more bytes than the limit; the body was not read."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"a {size}-byte message is over the {limit}-byte limit")
        self.size = size
        self.limit = limit


class CompressedMessage(Exception):
    """The message is compressed; the server announces no compression, so none may be used."""


async def receive_message(stream: Any, limit: int) -> bytes | None:
    """The next message of a grpclib server `stream`, or None once the client half-closed.

    Raises `MessageTooLarge` (body unread) or `CompressedMessage`.
    """
    wire = stream._stream  # grpclib.protocol.Stream: DATA bytes under HTTP/2 flow control
    prefix = await wire.recv_data(_PREFIX.size)
    if not prefix:
        return None
    compressed, size = _PREFIX.unpack(prefix)
    if compressed:
        raise CompressedMessage("compressed messages are not supported (the server offers no grpc-encoding)")
    if size > limit:
        raise MessageTooLarge(size, limit)
    body: bytes = await wire.recv_data(size)
    return body
