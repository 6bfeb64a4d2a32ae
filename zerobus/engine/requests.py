"""Internal: Wire encoding of what the engine decided to send (pure functions, no state).

The drivers call these outside their locks, so building a large batch request never holds up
threads that are ingesting. Requests are returned serialized: the gRPC calls are made with an
identity request serializer.
"""

from __future__ import annotations

from collections.abc import Sequence

from zerobus.protocol import (
    AvroEncodedRecord,
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    RecordTypeValue,
)

__all__ = ["create_stream_request", "records_request"]


def create_stream_request(table_name: str, record_type: int, descriptor_proto: bytes | None) -> bytes:
    """The first message of every call: table, record type (always set), and the record schema:
    for PROTO the descriptor; for AVRO `descriptor_proto` holds the writer schema's UTF-8 JSON text,
    sent as `avro_schema` (docs/PROTOCOL.md section 12)."""
    create = CreateIngestStreamRequest(table_name=table_name, record_type=record_type)
    if descriptor_proto is not None and record_type == RecordTypeValue.AVRO:
        create.avro_schema = descriptor_proto.decode("utf-8")
    elif descriptor_proto is not None:
        create.descriptor_proto = descriptor_proto
    return bytes(EphemeralStreamRequest(create_stream=create).SerializeToString())


def records_request(offset_id: int, records: Sequence[bytes | str], json: bool) -> bytes:
    """One request carrying `records`: `ingest_record` for a lone record, else one batch.

    Built in place inside one outer message: constructing the inner messages first and passing
    them to their parents would copy every record once per level.
    """
    request = EphemeralStreamRequest()
    avro = bool(records) and type(records[0]) is AvroEncodedRecord
    if len(records) == 1:
        single = request.ingest_record
        single.offset_id = offset_id
        if avro:
            single.avro_encoded_record = records[0]
        elif json:
            single.json_record = records[0]
        else:
            single.proto_encoded_record = records[0]
    else:
        batch = request.ingest_record_batch
        batch.offset_id = offset_id
        if avro:
            batch.avro_encoded_batch.records.extend(records)
        elif json:
            batch.json_batch.records.extend(records)
        else:
            batch.proto_encoded_batch.records.extend(records)
    return bytes(request.SerializeToString())
