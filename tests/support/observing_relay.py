"""A loopback TCP relay in front of a real server, for tests that must see what a client sends.

It forwards every byte unchanged both ways, counts the TCP connections clients open, and reads
the request headers passing towards the server: HTTP/1.1 as text, HTTP/2 (gRPC) through an h2
connection that only parses. The server behind it is the real one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class ObservingRelay:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`target_port`; `http2` says how to read requests."""

    def __init__(self, target_port: int, http2: bool) -> None:
        self.target_port = target_port
        self.http2 = http2
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._connections = 0
        self._requests: list[dict[str, str]] = []
        self._sockets: list[socket.socket] = []
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, name="observing-relay", daemon=True)
        self._acceptor.start()

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._connections

    @property
    def requests(self) -> list[dict[str, str]]:
        """The headers of every request seen so far (names lower-cased)."""
        with self._lock:
            return list(self._requests)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._connections += 1
                self._sockets += [client, upstream]
            reader = _Http2Reader(self._record) if self.http2 else _Http1Reader(self._record)
            threading.Thread(target=self._pump, args=(client, upstream, reader), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _record(self, headers: dict[str, str]) -> None:
        with self._lock:
            self._requests.append(headers)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, reader: _Reader | None) -> None:
        try:
            while data := source.recv(65536):
                if reader is not None:
                    reader.feed(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        # shutdown() wakes the threads blocked in accept() / recv(); close() alone would not.
        for sock in [self._listener, *sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._acceptor.join(timeout=5)

    def __enter__(self) -> ObservingRelay:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class _Reader:
    def __init__(self, record: object) -> None:
        self.record = record

    def feed(self, data: bytes) -> None:
        raise NotImplementedError


class _Http1Reader(_Reader):
    """Request heads of an HTTP/1.1 connection (bodies are skipped by their Content-Length)."""

    def __init__(self, record: object) -> None:
        super().__init__(record)
        self._buffer = b""
        self._body_left = 0

    def feed(self, data: bytes) -> None:
        self._buffer += data
        while True:
            if self._body_left:
                taken = min(self._body_left, len(self._buffer))
                self._buffer, self._body_left = self._buffer[taken:], self._body_left - taken
                if self._body_left:
                    return
            head, found, rest = self._buffer.partition(b"\r\n\r\n")
            if not found:
                return
            lines = head.decode("latin-1").split("\r\n")
            headers = {":request": lines[0]}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.record(headers)  # type: ignore[operator]
            self._buffer, self._body_left = rest, int(headers.get("content-length", "0"))


class _Http2Reader(_Reader):
    """Request headers of an HTTP/2 connection, parsed by an h2 server-side connection that never answers."""

    def __init__(self, record: object) -> None:
        super().__init__(record)
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self._h2 = h2.connection.H2Connection(config)
        self._h2.initiate_connection()
        self._broken = False

    def feed(self, data: bytes) -> None:
        if self._broken:
            return
        try:
            for event in self._h2.receive_data(data):
                if isinstance(event, h2.events.RequestReceived) and event.headers is not None:
                    self.record({str(k).lower(): str(v) for k, v in event.headers})  # type: ignore[operator]
                elif isinstance(event, h2.events.DataReceived) and event.stream_id is not None:
                    # Keep this parser's flow-control windows open, as the real server does.
                    self._h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        except h2.exceptions.H2Error:
            self._broken = True  # not HTTP/2 as expected: keep relaying, stop reading
        self._h2.data_to_send()
