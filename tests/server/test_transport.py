"""The gRPC server's TCP connections: Nagle's algorithm is off on every accepted socket.

With Nagle on, an ack written while the previous one was still unacknowledged at the TCP level
waited for the client's delayed ACK (about 40 ms on Linux): measured with strace, 42 ms between
the server's send and the client's read, and a 1000-record round trip of 44 ms instead of 3 ms.
grpclib and asyncio only set TCP_NODELAY on sockets whose `proto` is IPPROTO_TCP, which accepted
sockets do not report, so the server sets it itself.
"""

from __future__ import annotations

import asyncio
import socket

from zerobus.server.grpc_service import RawCodec, TrackingServer


async def _accepted_socket_options() -> list[int]:
    server = TrackingServer([], codec=RawCodec())
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    await server.start(sock=listener)
    try:
        reader, writer = await asyncio.open_connection(*listener.getsockname())
        # The server speaks first (its HTTP/2 SETTINGS frame) once it has set the connection up.
        assert await asyncio.wait_for(reader.read(9), 5)
        options = [
            transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            for transport in server.transports
        ]
        writer.close()
        return options
    finally:
        server.close()
        await server.wait_closed()


def test_accepted_connections_send_small_writes_at_once() -> None:
    options = asyncio.run(_accepted_socket_options())
    assert len(options) == 1
    assert options[0] != 0  # TCP_NODELAY set
