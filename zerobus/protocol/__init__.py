"""Internal: The Zerobus Ingest wire protocol: messages, the gRPC method path and the shared constants."""

from zerobus.protocol.constants import (
    AUTHORIZATION_HEADER,
    MAX_REQUEST_BYTES,
    TABLE_NAME_HEADER,
)
from zerobus.protocol.messages import (
    METHOD_PATH,
    AvroEncodedRecord,
    AvroEncodedRecordBatch,
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
    "AUTHORIZATION_HEADER",
    "MAX_REQUEST_BYTES",
    "METHOD_PATH",
    "TABLE_NAME_HEADER",
    "AvroEncodedRecord",
    "AvroEncodedRecordBatch",
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
