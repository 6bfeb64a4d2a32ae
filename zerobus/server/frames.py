"""What one log frame holds: an accepted ingest request, as received, plus how to decode it.

Payload layout: one byte record kind (``P`` proto, ``J`` JSON), a 16-byte descriptor key (the
first 16 bytes of the SHA-256 of the stream's descriptor; zeros for JSON), then the serialized
`EphemeralStreamRequest` exactly as it came off the wire. Storing the request untouched keeps
the hot path free of re-encoding; the materializer decodes it later.
"""

from __future__ import annotations

import hashlib
from typing import Any

from zerobus.protocol import EphemeralStreamRequest

__all__ = ["JSON_KEY", "KIND_JSON", "KIND_PROTO", "decode_frame", "descriptor_key", "frame_prefix"]

KIND_PROTO = b"P"
KIND_JSON = b"J"
JSON_KEY = bytes(16)


def descriptor_key(descriptor_bytes: bytes) -> bytes:
    return hashlib.sha256(descriptor_bytes).digest()[:16]


def frame_prefix(kind: bytes, key: bytes) -> bytes:
    """The 17 bytes every frame of a stream starts with."""
    return kind + key


def decode_frame(payload: bytes) -> tuple[bytes, bytes, list[Any]]:
    """(kind, descriptor key, records) of a frame: bytes for proto records, str for JSON."""
    kind, key = payload[:1], payload[1:17]
    request = EphemeralStreamRequest.FromString(payload[17:])
    which = request.WhichOneof("payload")
    if which == "ingest_record":
        single = request.ingest_record
        record = single.json_record if kind == KIND_JSON else single.proto_encoded_record
        return kind, key, [record]
    batch = request.ingest_record_batch
    if kind == KIND_JSON:
        return kind, key, list(batch.json_batch.records)
    return kind, key, list(batch.proto_encoded_batch.records)
