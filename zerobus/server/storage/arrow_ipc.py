"""Internal: Arrow IPC messages from Flight's pieces, and the log frames that hold Arrow batches.

A `FlightData` carries one IPC message split in two: `data_header` (the flatbuffer `Message`)
and `data_body`. The encapsulated IPC form is the continuation marker ``0xFFFFFFFF``, the
int32 length of the header padded to 8 bytes, the padded header, then the body; pyarrow reads
that (decompressing LZ4/ZSTD bodies as the header says).

An Arrow log frame is the usual 17-byte prefix (kind ``A``, a zero key) followed by the stream's
schema message and one record-batch message: a complete IPC stream on its own, so the
materializer decodes it with no other state, after a restart too.
"""

from __future__ import annotations

import struct
from typing import Any

from zerobus.server.storage.frames import KIND_ARROW, frame_prefix

__all__ = ["ARROW_KEY", "ARROW_PREFIX", "frame_table", "ipc_message_parts"]

ARROW_KEY = bytes(16)
ARROW_PREFIX = frame_prefix(KIND_ARROW, ARROW_KEY)

_CONTINUATION = b"\xff\xff\xff\xff"
_LENGTH = struct.Struct("<i")
_PADDING = bytes(8)


def ipc_message_parts(header: bytes, body: bytes) -> list[bytes]:
    """The pieces of one encapsulated IPC message (join them, or join them with more)."""
    padding = -len(header) % 8
    parts = [_CONTINUATION, _LENGTH.pack(len(header) + padding), header, _PADDING[:padding]]
    if body:
        parts.append(body)
    return parts


def frame_table(ipc_stream: bytes) -> Any:
    """The batch of an Arrow frame (its bytes after the prefix) as a `pyarrow.Table`."""
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(ipc_stream)).read_all()
