"""Avro records, as the official SDK's `zerobus.sdk.shared.avro` offers them.

Streams encode Avro records themselves (`TableProperties(table, avro_schema=...)`); these names
serve code that encodes records ahead of time, e.g. to pass pre-encoded bytes. Dicts and
Pydantic models are checked against the writer schema first (an `InvalidRecordError` names the
field, the value and the reason), then encoded with fastavro (``pip install
'zerobus-toolkit[avro]'``); bytes pass through unchanged, without fastavro.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from zerobus.encoders.avro_records import AvroEncoder as _StreamEncoder

__all__ = ["AvroEncoder", "make_encoder"]


class AvroEncoder:
    """Encodes records of one Avro writer schema (JSON text) to Avro binary."""

    def __init__(self, schema_json: str) -> None:
        self._encoder = _StreamEncoder(schema_json)

    def encode(self, payload: object) -> bytes:
        """One record (a dict, a Pydantic model or Avro bytes) as Avro bytes."""
        return bytes(self._encoder.encode_record(payload))

    def encode_batch(self, payloads: Iterable[object]) -> list[bytes]:
        """A list of records as Avro bytes; a single record (a dict or bytes) is refused."""
        if isinstance(payloads, (str, bytes, bytearray, memoryview, Mapping)) or not hasattr(
            payloads, "__iter__"
        ):
            raise TypeError(f"payloads must be a list of records, got {type(payloads).__name__}")
        return [bytes(self._encoder.encode_record(payload)) for payload in payloads]


def make_encoder(schema_json: str | None) -> AvroEncoder | None:
    """An `AvroEncoder` for an Avro stream, or None when `schema_json` is None."""
    return AvroEncoder(schema_json) if schema_json is not None else None
