"""The Zerobus Ingest wire protocol: messages and the gRPC method path."""

from zerobus.protocol.messages import (
    METHOD_PATH,
    CloseStreamSignal,
    CreateIngestStreamRequest,
    CreateIngestStreamResponse,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordBatchRequest,
    IngestRecordRequest,
    IngestRecordResponse,
    JsonRecordBatch,
    ProtoEncodedRecordBatch,
    RecordTypeValue,
)

__all__ = [
    "METHOD_PATH",
    "CloseStreamSignal",
    "CreateIngestStreamRequest",
    "CreateIngestStreamResponse",
    "EphemeralStreamRequest",
    "EphemeralStreamResponse",
    "IngestRecordBatchRequest",
    "IngestRecordRequest",
    "IngestRecordResponse",
    "JsonRecordBatch",
    "ProtoEncodedRecordBatch",
    "RecordTypeValue",
]
