"""Internal: What one log frame holds: an accepted ingest request, as received, plus how to decode it.

Payload layout: one byte record kind (``P`` proto, ``J`` JSON, ``A`` Arrow, ``V`` Avro), a 16-byte
descriptor key (the first 16 bytes of the SHA-256 of the stream's descriptor or Avro writer schema;
zeros for JSON and Arrow),
then the serialized `EphemeralStreamRequest` exactly as it came off the wire (for Arrow: the
batch as an IPC stream, see `arrow_ipc`). Storing the request untouched keeps
the hot path free of re-encoding; the materializer decodes it later with the stream's codec.
"""

from __future__ import annotations

import hashlib

__all__ = [
    "JSON_KEY",
    "KIND_ARROW",
    "KIND_AVRO",
    "KIND_JSON",
    "KIND_PROTO",
    "descriptor_key",
    "frame_prefix",
    "split_frame",
]

KIND_PROTO = b"P"
KIND_JSON = b"J"
KIND_ARROW = b"A"
KIND_AVRO = b"V"
JSON_KEY = bytes(16)


def descriptor_key(descriptor_bytes: bytes) -> bytes:
    return hashlib.sha256(descriptor_bytes).digest()[:16]


def frame_prefix(kind: bytes, key: bytes) -> bytes:
    """The 17 bytes every frame of a stream starts with."""
    return kind + key


def split_frame(payload: bytes) -> tuple[bytes, bytes, bytes]:
    """(kind, descriptor key, the request as received) of a frame; the stream's codec decodes it."""
    return payload[:1], payload[1:17], payload[17:]
