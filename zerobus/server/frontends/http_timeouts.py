"""Internal: Time limits for the workspace HTTP server: a client cannot hold a worker thread forever.

Every request (request line, headers and body) must arrive whole within the read timeout,
counted from the moment the server starts waiting for it. Each read from the socket gets only
the time left, so a client that never sends its body, trickles headers or a body one byte at a
time (each byte just in time for a per-read timeout), or sits idle on a kept-alive connection is
cut off once its time is up. Writes keep the plain timeout.
"""

from __future__ import annotations

import io
import socket
import time

__all__ = ["DEFAULT_HTTP_READ_TIMEOUT_S", "RequestDeadline", "RequestTimedOut"]

DEFAULT_HTTP_READ_TIMEOUT_S = 30.0


class RequestTimedOut(TimeoutError):
    """The request did not arrive whole within the read timeout."""


class _DeadlineReader(io.RawIOBase):
    """Reads from a connection socket, each read bounded by the current request's deadline."""

    def __init__(self, connection: socket.socket, timeout_s: float) -> None:
        super().__init__()
        self._connection = connection
        self._timeout_s = timeout_s
        self._deadline = time.monotonic() + timeout_s

    def start_request(self) -> None:
        self._deadline = time.monotonic() + self._timeout_s

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise RequestTimedOut(f"the request did not arrive whole within {self._timeout_s:g} s")
        self._connection.settimeout(remaining)
        try:
            return self._connection.recv_into(buffer)
        except TimeoutError:
            raise RequestTimedOut(f"the request did not arrive whole within {self._timeout_s:g} s") from None
        finally:
            self._connection.settimeout(self._timeout_s)


class RequestDeadline:
    """A connection's buffered reader whose reads stop at the current request's deadline.

    The handler reads requests through `reader` and calls `start_request()` before each one. A
    request that runs out of time before its headers are complete is dropped without an answer
    (the stdlib's handling of a read timeout); body readers catch `RequestTimedOut`.
    """

    def __init__(self, connection: socket.socket, timeout_s: float) -> None:
        self._raw = _DeadlineReader(connection, timeout_s)
        self.reader = io.BufferedReader(self._raw)

    def start_request(self) -> None:
        self._raw.start_request()
