"""An acknowledge-only Arrow Flight `DoPut` peer: the stand-in for a server that is never the bottleneck.

The local server checks every batch against its table and writes it to a durable log, so a fast
Arrow client waits on it and two clients cannot be told apart. This peer speaks the Flight side
of docs/PROTOCOL.md section 9 and nothing more: the ready signal once the call starts, then
cumulative acks (`{"ack_up_to_offset": N, "ack_up_to_records": M}`), N taken from the latest
batch's `{"offset_id": N}` metadata and M summed from the row count in each IPC header. Batches
that arrive together are answered by one ack (the protocol's acks are cumulative).

It runs on `h2_peer` (benchmarks/h2_peer.py), a bare HTTP/2 server that sees only the first bytes
of each `FlightData` (descriptor, IPC header, app_metadata: protobuf fields 1-3, which both
clients write before the body, field 1000), so the Arrow body is never copied out of the socket
buffer, checked or stored. pyarrow's Flight server would insist on a descriptor the official
client does not send, and grpcio's copies every message into Python. The authorization header is
ignored (tokens still come from the local server's HTTP API).

    python benchmarks/flight_ack_sink.py   # prints {"grpc_endpoint": ...} on one line, serves until killed
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ack_sink import serve_until_signalled
from h2_peer import H2Peer

from zerobus.protocol.flight import ACK_UP_TO_OFFSET, ACK_UP_TO_RECORDS, DO_PUT_PATH, OFFSET_ID, PutResult

_HEADER_FIELD, _METADATA_FIELD, _BODY_FIELD = 2, 3, 1000


def _ack(offset: int, records: int) -> bytes:
    body = json.dumps({ACK_UP_TO_OFFSET: offset, ACK_UP_TO_RECORDS: records}, separators=(",", ":"))
    data: bytes = PutResult(app_metadata=body.encode()).SerializeToString()
    return data


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def flight_data_head(head: bytes, size: int) -> tuple[bytes, bytes]:
    """(data_header, app_metadata) of a `FlightData` of `size` bytes whose first bytes are `head`."""
    header = metadata = b""
    at = 0
    while at < len(head):
        key, at = _varint(head, at)
        if key >> 3 == _BODY_FIELD:
            return header, metadata
        if key & 7 != 2:
            raise ValueError(
                f"FlightData field {key >> 3} has wire type {key & 7}; Flight uses only bytes fields"
            )
        length, at = _varint(head, at)
        if at + length > len(head):
            raise ValueError(f"FlightData field {key >> 3} ends beyond the {len(head)} bytes this peer reads")
        if key >> 3 == _HEADER_FIELD:
            header = head[at : at + length]
        elif key >> 3 == _METADATA_FIELD:
            metadata = head[at : at + length]
        at += length
    if len(head) < size:
        raise ValueError(f"FlightData has no body field within the {len(head)} bytes this peer reads")
    return header, metadata


def _field(buffer: bytes, table: int, index: int) -> int | None:
    """Where field `index` of the flatbuffer table at `table` is stored (None: absent)."""
    vtable = table - struct.unpack_from("<i", buffer, table)[0]
    slot = 4 + 2 * index
    if slot >= struct.unpack_from("<H", buffer, vtable)[0]:
        return None
    offset: int = struct.unpack_from("<H", buffer, vtable + slot)[0]
    return table + offset if offset else None


def _row_count(header: bytes) -> int:
    """`RecordBatch.length` of an Arrow IPC `Message` flatbuffer (Message.header is field 2)."""
    message = struct.unpack_from("<I", header, 0)[0]
    where = _field(header, message, 2)
    if where is None:
        return 0
    batch = where + struct.unpack_from("<I", header, where)[0]
    length = _field(header, batch, 0)
    return 0 if length is None else int(struct.unpack_from("<q", header, length)[0])


class AckingCall:
    """One `DoPut`: the ready signal, then one cumulative ack for what arrived since the last."""

    def __init__(self) -> None:
        self._records = 0
        self._offset: int | None = None
        self._acked: int | None = None

    def opening(self) -> bytes:
        return _ack(-1, 0)

    def on_message(self, head: bytes, size: int) -> None:
        header, metadata = flight_data_head(head, size)
        if metadata:  # a batch (the schema message carries none)
            self._records += _row_count(header)
            self._offset = int(json.loads(metadata)[OFFSET_ID])

    def take_reply(self) -> bytes | None:
        if self._offset is None or self._offset == self._acked:
            return None
        self._acked = self._offset
        return _ack(self._offset, self._records)


def main() -> None:
    peer = H2Peer(DO_PUT_PATH, AckingCall)
    peer.start()
    serve_until_signalled(peer, peer.port)


if __name__ == "__main__":
    main()
