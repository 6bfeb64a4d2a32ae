"""A raw HTTP/2 gRPC client for the tests that need bytes no gRPC library would send.

It writes any gRPC framing (a length prefix announcing more than is ever sent, a compressed
flag) and counts the bytes it managed to send before the server answered, under HTTP/2 flow
control: a server that refuses a message without reading it stops the client within one window.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from zerobus.protocol import METHOD_PATH

_PREFIX = struct.Struct(">?I")


def grpc_frame(message: bytes, compressed: bool = False) -> bytes:
    return _PREFIX.pack(compressed, len(message)) + message


class RawGrpcConnection:
    """One HTTP/2 connection to the server; calls are opened with `open_call`."""

    def __init__(self, port: int, timeout_s: float = 30.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.h2.initiate_connection()
        self.calls: dict[int, RawGrpcCall] = {}
        self._flush()

    def open_call(self, metadata: list[tuple[str, str]]) -> RawGrpcCall:
        stream_id = self.h2.get_next_available_stream_id()
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", METHOD_PATH),
            (":authority", f"127.0.0.1:{self.port}"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            *metadata,
        ]
        self.h2.send_headers(stream_id, headers)
        self._flush()
        call = RawGrpcCall(self, stream_id)
        self.calls[stream_id] = call
        return call

    def close(self) -> None:
        self.sock.close()

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self) -> None:
        """Read once from the socket and dispatch what arrived (blocks until something does)."""
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("the server closed the connection")
        for event in self.h2.receive_data(data):
            stream_id = getattr(event, "stream_id", None)
            call = self.calls.get(stream_id) if stream_id is not None else None
            if call is not None:
                call.on_event(event)
            elif isinstance(event, h2.events.DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        self._flush()

    def __enter__(self) -> RawGrpcConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawGrpcCall:
    """One EphemeralStream call: send raw bytes, read messages and the final status."""

    def __init__(self, connection: RawGrpcConnection, stream_id: int) -> None:
        self.connection = connection
        self.stream_id = stream_id
        self._received = bytearray()
        self.messages: list[bytes] = []
        self.trailers: dict[str, str] | None = None
        self.reset = False
        self.bytes_sent = 0

    @property
    def ended(self) -> bool:
        return self.trailers is not None or self.reset

    def on_event(self, event: Any) -> None:
        if isinstance(event, h2.events.DataReceived):
            self.connection.h2.acknowledge_received_data(event.flow_controlled_length, self.stream_id)
            self._received += event.data
            while len(self._received) >= _PREFIX.size:
                _, size = _PREFIX.unpack_from(self._received)
                if len(self._received) < _PREFIX.size + size:
                    break
                self.messages.append(bytes(self._received[_PREFIX.size : _PREFIX.size + size]))
                del self._received[: _PREFIX.size + size]
        elif isinstance(event, (h2.events.TrailersReceived, h2.events.ResponseReceived)):
            headers = dict(event.headers)
            if "grpc-status" in headers:
                self.trailers = headers
        elif isinstance(event, h2.events.StreamReset):
            self.reset = True

    def send(self, data: bytes) -> None:
        """Send all of `data` as flow control allows; stops early once the call has ended."""
        h2_connection = self.connection.h2
        view = memoryview(data)
        while view and not self.ended:
            window = min(
                h2_connection.local_flow_control_window(self.stream_id), h2_connection.max_outbound_frame_size
            )
            if window <= 0:
                self.connection.pump()
                continue
            chunk = view[:window]
            try:
                h2_connection.send_data(self.stream_id, bytes(chunk))
            except h2.exceptions.StreamClosedError:
                self.reset = True
                return
            self.connection._flush()
            self.bytes_sent += len(chunk)
            view = view[len(chunk) :]

    def send_zeros(self, count: int, chunk: int = 1 << 20) -> None:
        """Send `count` zero bytes in pieces (never holding them all), stopping once the call ended."""
        piece = bytes(chunk)
        remaining = count
        while remaining > 0 and not self.ended:
            self.send(piece[: min(chunk, remaining)])
            remaining -= min(chunk, remaining)

    def wait_message(self) -> bytes:
        while not self.messages:
            assert not self.ended, f"call ended: {self.trailers}"
            self.connection.pump()
        return self.messages.pop(0)

    def wait_status(self) -> tuple[int, str]:
        while self.trailers is None:
            assert not self.reset, "the stream was reset without a status"
            self.connection.pump()
        return int(self.trailers["grpc-status"]), self.trailers.get("grpc-message", "")
