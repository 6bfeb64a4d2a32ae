"""Wire encoding of what the engine decided to send (pure functions, no state).

The drivers call these outside their locks, so building a large batch request never holds up
threads that are ingesting. Requests are returned serialized: the gRPC calls are made with an
identity request serializer.
"""

from __future__ import annotations

from collections.abc import Sequence

from zerobus.protocol import (
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    IngestRecordBatchRequest,
    IngestRecordRequest,
    JsonRecordBatch,
    ProtoEncodedRecordBatch,
)

__all__ = ["create_stream_request", "records_request"]


def create_stream_request(table_name: str, record_type: int, descriptor_proto: bytes | None) -> bytes:
    """The first message of every call: table, record type (always set), descriptor for PROTO."""
    create = CreateIngestStreamRequest(table_name=table_name, record_type=record_type)
    if descriptor_proto is not None:
        create.descriptor_proto = descriptor_proto
    return bytes(EphemeralStreamRequest(create_stream=create).SerializeToString())


def records_request(offset_id: int, records: Sequence[bytes | str], json: bool) -> bytes:
    """One request carrying `records`: `ingest_record` for a lone record, else one batch."""
    if len(records) == 1:
        if json:
            single = IngestRecordRequest(offset_id=offset_id, json_record=records[0])
        else:
            single = IngestRecordRequest(offset_id=offset_id, proto_encoded_record=records[0])
        return bytes(EphemeralStreamRequest(ingest_record=single).SerializeToString())
    if json:
        batch = IngestRecordBatchRequest(offset_id=offset_id, json_batch=JsonRecordBatch(records=records))
    else:
        batch = IngestRecordBatchRequest(
            offset_id=offset_id, proto_encoded_batch=ProtoEncodedRecordBatch(records=records)
        )
    return bytes(EphemeralStreamRequest(ingest_record_batch=batch).SerializeToString())
