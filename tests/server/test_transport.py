"""The gRPC server's TCP connections: Nagle's algorithm is off, and stopping drops them.

With Nagle on, an ack written while the previous one was still unacknowledged at the TCP level
waited for the client's delayed ACK (about 40 ms on Linux). asyncio only sets TCP_NODELAY on
sockets whose `proto` is IPPROTO_TCP; the listener spells it out so accepted sockets inherit it.
grpclib's `close()` leaves accepted connections open; the listener drops them. Both through
public APIs only (no grpclib internals), checked here on a real grpclib server.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from pathlib import Path

from grpclib.server import Server

import zerobus.server
from zerobus.server.frontends.grpc_listener import grpc_listener
from zerobus.server.frontends.grpc_service import RawCodec


async def _serve_one_connection() -> tuple[list[int], bytes]:
    server = Server([], codec=RawCodec())
    listener = grpc_listener("127.0.0.1")
    listener.bind(("127.0.0.1", 0))
    await server.start(sock=listener)
    try:
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        # The server speaks first (its HTTP/2 SETTINGS frame) once it has set the connection up.
        assert await asyncio.wait_for(reader.read(9), 5)
        options = [
            connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for connection in listener.accepted
        ]
        server.close()
        await server.wait_closed()
        listener.drop_connections()
        rest = await asyncio.wait_for(reader.read(), 5)  # returns at EOF: the server dropped us
        writer.close()
        return options, rest
    finally:
        listener.close()


def test_accepted_connections_send_small_writes_at_once_and_drop_on_stop() -> None:
    options, _rest = asyncio.run(_serve_one_connection())
    assert len(options) == 1
    assert options[0] != 0  # TCP_NODELAY set


# The one grpclib internal the server reads, and why: zerobus/server/frontends/bounded_messages.py.
_ALLOWED_PRIVATE = {("bounded_messages.py", "._stream")}


def test_the_server_uses_no_private_grpclib_or_json_api() -> None:
    """Private hooks break silently on upgrades: public APIs only (class-level guard)."""
    private = ("_protocol_factory", "scan_once", "._stream", "grpclib.server.Handler", "._transport")
    root = Path(zerobus.server.__file__).parent
    found = [
        f"{path.name}: {name}"
        for path in sorted(root.rglob("*.py"))
        for name in private
        if name in path.read_text(encoding="utf-8") and (path.name, name) not in _ALLOWED_PRIVATE
    ]
    assert found == []
    assert "scan_once" not in (root.parent / "strict_json.py").read_text(encoding="utf-8")


def test_the_grpclib_internal_the_size_limit_reads_is_still_there() -> None:
    """`receive_message` reads `Stream._stream.recv_data`: fail loudly if grpclib moves it."""
    import grpclib.protocol
    import grpclib.server

    assert "self._stream = stream" in inspect.getsource(grpclib.server.Stream.__init__)
    assert inspect.iscoroutinefunction(grpclib.protocol.Stream.recv_data)
    assert list(inspect.signature(grpclib.protocol.Stream.recv_data).parameters)[:2] == ["self", "size"]
