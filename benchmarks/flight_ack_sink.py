"""An acknowledge-only Arrow Flight `DoPut` peer: the stand-in for a server that is never the bottleneck.

The local server checks every batch against its table and writes it to a durable log, so a fast
Arrow client waits on it and two clients cannot be told apart. This peer speaks the Flight side
of docs/PROTOCOL.md section 9 and nothing more: the ready signal once the call starts, then a
cumulative ack (`{"ack_up_to_offset": N, "ack_up_to_records": M}`) as each batch arrives, N taken
from the batch's `{"offset_id": N}` metadata and M summed from the row count in each IPC header.
It is a plain gRPC handler over the `FlightData` message (pyarrow's Flight server would insist
on a descriptor the official client does not send); the Arrow body is never read: batches are
not checked and nothing is stored. The authorization header is ignored (tokens still come from the local
server's HTTP API).

    python benchmarks/flight_ack_sink.py   # prints {"grpc_endpoint": ...} on one line, serves until killed
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import grpc
from ack_sink import serve_stream, serve_until_signalled

from zerobus.protocol.flight import (
    ACK_UP_TO_OFFSET,
    ACK_UP_TO_RECORDS,
    DO_PUT_PATH,
    OFFSET_ID,
    FlightData,
    PutResult,
)


def _ack(offset: int, records: int) -> bytes:
    body = json.dumps({ACK_UP_TO_OFFSET: offset, ACK_UP_TO_RECORDS: records}, separators=(",", ":"))
    data: bytes = PutResult(app_metadata=body.encode()).SerializeToString()
    return data


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


def _answers(messages: Iterator[Any], context: grpc.ServicerContext) -> Iterator[bytes]:
    yield _ack(-1, 0)  # the ready signal
    records = 0
    for message in messages:
        if message.app_metadata:  # a batch (the schema message carries none)
            records += _row_count(message.data_header)
            yield _ack(int(json.loads(message.app_metadata)[OFFSET_ID]), records)


def main() -> None:
    serve_until_signalled(*serve_stream(DO_PUT_PATH, _answers, FlightData.FromString, None))


if __name__ == "__main__":
    main()
