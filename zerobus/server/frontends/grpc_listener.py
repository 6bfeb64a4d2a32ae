"""Internal: The gRPC port's listening socket: small writes leave at once, and stopping drops every connection.

Two things a grpclib server does not do by itself, done here through public APIs only (the
socket handed to `grpclib.server.Server.start(sock=...)`):

- Nagle's algorithm off on accepted connections. asyncio turns it off for sockets whose `proto`
  is IPPROTO_TCP, and an accepted socket inherits the listener's `proto`, so the listener is
  created with it spelled out (a plain ``socket(AF_INET, SOCK_STREAM)`` reports 0). With Nagle
  on, an ack written while the previous one was unacknowledged waits for the client's delayed
  TCP ACK.
- Dropping connections on stop. grpclib's `close()` cancels request handlers but leaves accepted
  connections open, so a client would wait on a server that is gone. The listener remembers what
  it accepted and shuts those sockets down; the client sees the connection end.
"""

from __future__ import annotations

import contextlib
import socket
import weakref

__all__ = ["ConnectionTrackingListener", "grpc_listener"]


class ConnectionTrackingListener(socket.socket):
    """A listening TCP socket that remembers the connections it accepted (weakly)."""

    def __init__(
        self,
        family: socket.AddressFamily | int = socket.AF_INET,
        type: socket.SocketKind | int = socket.SOCK_STREAM,  # socket.socket's own parameter name
        proto: int = socket.IPPROTO_TCP,
        fileno: int | None = None,
    ) -> None:
        super().__init__(family, type, proto, fileno)
        self.accepted: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def accept(self) -> tuple[socket.socket, object]:
        connection, address = super().accept()
        self.accepted.add(connection)
        return connection, address

    def drop_connections(self) -> None:
        """End every accepted connection still open (both directions)."""
        for connection in list(self.accepted):
            if connection.fileno() == -1:
                continue
            with contextlib.suppress(OSError):  # already gone on the peer's side
                connection.shutdown(socket.SHUT_RDWR)


def grpc_listener(host: str) -> ConnectionTrackingListener:
    """An unbound listener for `host` (IPv6 when the address has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = ConnectionTrackingListener(family)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return listener
