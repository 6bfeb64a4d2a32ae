"""A minimal HTTP/2 server for one bidirectional gRPC method: the core of benchmark peers.

A peer that stands in for "a server that is never the bottleneck" must cost far less than the
client it measures. grpcio's server hands every request message across threads and copies it
into a Python object before a handler sees it, so a client sending large messages meets a peer
as busy as itself. This one reads the socket into one reusable buffer and keeps only the first
`HEAD_BYTES` of each request message (the rest is counted and dropped), so a large message costs
the kernel's copy and little more. It grants the clients large flow-control windows (the same
for every client) and accepts frames up to 16 MiB, so neither flow control nor framing paces them.

Replies are cumulative: after each read from the socket a call is asked once for its reply, so
several messages that arrived together are answered by one (what a cumulative ack allows).
Benchmarks only: no TLS, no authentication, no message compression.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hpack import Decoder, Encoder

__all__ = ["HEAD_BYTES", "H2Peer", "PeerCall"]

HEAD_BYTES = 16384  # what a call sees of each request message
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _RST_STREAM, _SETTINGS, _PING, _GOAWAY, _WINDOW_UPDATE, _CONTINUATION = (
    0,
    1,
    3,
    4,
    6,
    7,
    8,
    9,
)
_END_STREAM = _ACK = 0x1
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20
_MAX_WINDOW = 2**31 - 1
_OUR_MAX_FRAME = 2**24 - 1
_REFILL_AT = 2**30  # bytes consumed before a window is topped up again


class PeerCall(Protocol):
    """One call of the served method, as the peer's owner implements it."""

    def opening(self) -> bytes | None:
        """The first reply message, sent with the response headers (None: none)."""

    def on_message(self, head: bytes, size: int) -> None:
        """A request message of `size` bytes arrived; `head` is its first HEAD_BYTES at most."""

    def take_reply(self) -> bytes | None:
        """The reply owed now (cumulative: only the latest matters), or None."""


@dataclass
class _Stream:
    call: PeerCall
    send_window: int
    consumed: int = 0
    prefix: bytearray = field(default_factory=bytearray)  # the 5-byte gRPC message prefix
    head: bytearray = field(default_factory=bytearray)
    size: int = -1  # of the message being read; -1 while its prefix is incomplete
    left: int = 0  # bytes of that message still to come
    pending: bytes | None = None  # a reply waiting for send window
    half_closed: bool = False  # the client sent END_STREAM: trailers follow the last reply


class _Connection:
    """One client connection, served by its own thread until the client goes away."""

    def __init__(
        self, sock: socket.socket, path: str, new_call: Callable[[], PeerCall], reading: threading.Event
    ) -> None:
        self._sock, self._path, self._new_call, self._reading = sock, path.encode(), new_call, reading
        self._decoder, self._encoder = Decoder(), Encoder()
        self._streams: dict[int, _Stream] = {}
        self._send_window = 65535
        self._peer_initial_window = 65535
        self._peer_max_frame = 16384
        self._consumed = 0
        self._headers: tuple[int, int, bytearray] | None = None  # stream, flags, block so far
        self._touched: set[int] = set()

    def serve(self) -> None:
        sock = self._sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        start = end = 0
        # The DATA frame being read: its stream, payload and padding still to come, END_STREAM.
        data_stream, data_left, pad_left, data_ends = 0, 0, 0, False
        self._send(self._frame(_SETTINGS, 0, 0, struct.pack(">HIHI", 4, _MAX_WINDOW, 5, _OUR_MAX_FRAME)))
        self._send(self._frame(_WINDOW_UPDATE, 0, 0, struct.pack(">I", _MAX_WINDOW - 65535)))
        preface_left = len(_PREFACE)
        while True:
            if start == end:
                start = end = 0
            elif end == len(buffer):
                view[: end - start] = view[start:end]
                start, end = 0, end - start
            self._reading.wait()
            received = sock.recv_into(view[end:])
            if not received:
                return
            end += received
            if preface_left:
                taken = min(preface_left, end - start)
                start, preface_left = start + taken, preface_left - taken
            while start < end:
                if data_left or pad_left:  # inside a DATA frame: its payload is handed over as it arrives
                    taken = min(data_left, end - start)
                    if taken:
                        self._on_data(data_stream, view[start : start + taken])
                        start, data_left = start + taken, data_left - taken
                    skipped = min(pad_left, end - start)
                    start, pad_left = start + skipped, pad_left - skipped
                    if not (data_left or pad_left) and data_ends:
                        self._end_of_request(data_stream)
                    continue
                if end - start < 9:
                    break
                length, kind, flags, stream_id = _frame_header(view[start : start + 9])
                if kind == _DATA:
                    padded = bool(flags & _PADDED)
                    if padded and end - start < 10:
                        break  # the pad length has not arrived yet
                    self._count_consumed(stream_id, length)
                    data_stream, data_ends = stream_id, bool(flags & _END_STREAM)
                    pad_left = buffer[start + 9] if padded else 0
                    data_left = length - pad_left - (1 if padded else 0)
                    start += 10 if padded else 9
                    if not (data_left or pad_left) and data_ends:
                        self._end_of_request(data_stream)
                    continue
                if end - start < 9 + length:
                    if 9 + length > len(buffer):
                        raise ConnectionError(
                            f"HTTP/2: a {length}-byte frame of type {kind} is too large here"
                        )
                    break
                payload = bytes(view[start + 9 : start + 9 + length])
                start += 9 + length
                if not self._on_frame(kind, flags, stream_id, payload):
                    return
            self._flush_replies()

    # --- frames ----------------------------------------------------------------------------------

    def _on_frame(self, kind: int, flags: int, stream_id: int, payload: bytes) -> bool:
        if self._headers is not None and kind != _CONTINUATION:
            raise ConnectionError("HTTP/2: a header block was interrupted")
        if kind == _HEADERS:
            if flags & _PADDED:
                payload = payload[1 : len(payload) - payload[0]]
            if flags & _PRIORITY:
                payload = payload[5:]
            self._headers = (stream_id, flags, bytearray(payload))
            if flags & _END_HEADERS:
                self._on_header_block()
        elif kind == _CONTINUATION and self._headers is not None:
            self._headers[2].extend(payload)
            if flags & _END_HEADERS:
                self._on_header_block()
        elif kind == _SETTINGS and not flags & _ACK:
            for offset in range(0, len(payload) - 5, 6):
                key, value = struct.unpack_from(">HI", payload, offset)
                if key == 4:
                    for stream in self._streams.values():
                        stream.send_window += value - self._peer_initial_window
                    self._peer_initial_window = value
                elif key == 5:
                    self._peer_max_frame = value
            self._send(self._frame(_SETTINGS, _ACK, 0, b""))
        elif kind == _PING and not flags & _ACK:
            self._send(self._frame(_PING, _ACK, 0, payload))
        elif kind == _WINDOW_UPDATE:
            increment = struct.unpack(">I", payload)[0] & _MAX_WINDOW
            if stream_id == 0:
                self._send_window += increment
            elif stream_id in self._streams:
                self._streams[stream_id].send_window += increment
            self._touched.update(self._streams)
        elif kind == _RST_STREAM:
            self._streams.pop(stream_id, None)
        elif kind == _GOAWAY:
            return False
        return True

    def _on_header_block(self) -> None:
        assert self._headers is not None
        stream_id, flags, block = self._headers
        self._headers = None
        headers = dict(self._decoder.decode(bytes(block), raw=True))
        if stream_id in self._streams:  # trailers from the client: its half-close
            if flags & _END_STREAM:
                self._end_of_request(stream_id)
            return
        reply = [(b":status", b"200"), (b"content-type", b"application/grpc")]
        if headers.get(b":path") != self._path:
            trailers = [*reply, (b"grpc-status", b"12"), (b"grpc-message", b"unknown method")]
            self._send(self._frame(_HEADERS, _END_HEADERS | _END_STREAM, stream_id, self._encode(trailers)))
            return
        call = self._new_call()
        self._streams[stream_id] = _Stream(call, self._peer_initial_window)
        self._send(self._frame(_HEADERS, _END_HEADERS, stream_id, self._encode(reply)))
        opening = call.opening()
        if opening is not None:
            self._send_message(stream_id, opening)
        if flags & _END_STREAM:
            self._end_of_request(stream_id)

    def _on_data(self, stream_id: int, chunk: memoryview) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        self._touched.add(stream_id)
        at, size = 0, len(chunk)
        while at < size:
            if stream.size < 0:
                taken = min(5 - len(stream.prefix), size - at)
                stream.prefix.extend(chunk[at : at + taken])
                at += taken
                if len(stream.prefix) == 5:
                    if stream.prefix[0]:
                        raise ConnectionError("compressed gRPC messages are not supported by this peer")
                    stream.size = stream.left = struct.unpack_from(">I", stream.prefix, 1)[0]
                    stream.prefix.clear()
                if stream.size != 0:
                    continue
            taken = min(stream.left, size - at)
            wanted = min(taken, HEAD_BYTES - len(stream.head))
            if wanted > 0:
                stream.head.extend(chunk[at : at + wanted])
            at += taken
            stream.left -= taken
            if stream.left == 0:
                stream.call.on_message(bytes(stream.head), stream.size)
                stream.head.clear()
                stream.size = -1

    def _end_of_request(self, stream_id: int) -> None:
        """The client half-closed: answer what is owed, then end the call with status OK."""
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.half_closed = True
            self._settle(stream_id, stream)

    def _settle(self, stream_id: int, stream: _Stream) -> None:
        """Send the reply owed (once the window allows); after the client's END_STREAM, the trailers."""
        reply = stream.call.take_reply()
        if reply is not None:
            stream.pending = reply
        if stream.pending is not None:
            self._send_message(stream_id, stream.pending, stream)
        if stream.half_closed and stream.pending is None:
            del self._streams[stream_id]
            trailers = self._encode([(b"grpc-status", b"0")])
            self._send(self._frame(_HEADERS, _END_HEADERS | _END_STREAM, stream_id, trailers))

    # --- sending ---------------------------------------------------------------------------------

    def _flush_replies(self) -> None:
        for stream_id in self._touched:
            stream = self._streams.get(stream_id)
            if stream is not None:
                self._settle(stream_id, stream)
        self._touched.clear()

    def _send_message(self, stream_id: int, message: bytes, stream: _Stream | None = None) -> None:
        framed = struct.pack(">BI", 0, len(message)) + message
        if stream is not None:
            window = min(self._send_window, stream.send_window)
            if len(framed) > window or len(framed) > self._peer_max_frame:
                stream.pending = message  # sent once the client grants window
                return
            stream.pending = None
            stream.send_window -= len(framed)
        self._send_window -= len(framed)
        self._send(self._frame(_DATA, 0, stream_id, framed))

    def _count_consumed(self, stream_id: int, length: int) -> None:
        self._consumed += length
        if self._consumed >= _REFILL_AT:
            self._send(self._frame(_WINDOW_UPDATE, 0, 0, struct.pack(">I", self._consumed)))
            self._consumed = 0
        stream = self._streams.get(stream_id)
        if stream is not None:
            stream.consumed += length
            if stream.consumed >= _REFILL_AT:
                self._send(self._frame(_WINDOW_UPDATE, 0, stream_id, struct.pack(">I", stream.consumed)))
                stream.consumed = 0

    def _encode(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        encoded: bytes = self._encoder.encode(headers)
        return encoded

    @staticmethod
    def _frame(kind: int, flags: int, stream_id: int, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", kind, flags, stream_id) + payload

    def _send(self, frame: bytes) -> None:
        self._sock.sendall(frame)


def _frame_header(header: memoryview) -> tuple[int, int, int, int]:
    """(length, type, flags, stream id) of a 9-byte HTTP/2 frame header."""
    high, rest, kind, flags, stream_id = struct.unpack(">BHBBI", header)
    return (high << 16) | rest, kind, flags, stream_id & _MAX_WINDOW


class H2Peer:
    """Serves `path` on a free loopback port; `new_call()` makes each call's handler.

    Clearing `reading` stops reading from every connection (what a stalled network does to a
    client's writes) until it is set again.
    """

    def __init__(self, path: str, new_call: Callable[[], PeerCall]) -> None:
        self._path, self._new_call = path, new_call
        self.reading = threading.Event()
        self.reading.set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="h2-peer-accept", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float | None) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            connection = _Connection(sock, self._path, self._new_call, self.reading)
            threading.Thread(target=_serve_quietly, args=(connection, sock), daemon=True).start()


def _serve_quietly(connection: _Connection, sock: socket.socket) -> None:
    """A client that resets or breaks its connection ends only its own thread."""
    try:
        connection.serve()
    except (ConnectionError, OSError):
        pass
    finally:
        sock.close()
