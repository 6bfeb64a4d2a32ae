"""Internal: The `databricks.zerobus` wire messages, built at import time without protoc.

The schema is written once, as data below, from docs/PROTOCOL.md section 3 (the reference text is
`zerobus.proto` beside this file; a test checks that protoc compiles it to the same descriptor).
Building the FileDescriptorProto in code and loading it into a private pool keeps the classes
importable on every protobuf major version we support, with no generated `_pb2` drift, and keeps
our names out of the default pool where a user's own files live.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, duration_pb2, message_factory

__all__ = [
    "FILE_NAME",
    "METHOD_PATH",
    "PACKAGE",
    "SERVICE_NAME",
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
    "file_descriptor_proto",
]

PACKAGE = "databricks.zerobus"
SERVICE_NAME = f"{PACKAGE}.Zerobus"
METHOD_PATH = f"/{SERVICE_NAME}/EphemeralStream"
FILE_NAME = "databricks/zerobus/zerobus.proto"

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED

# Field rows: (name, number, label, type, type_name or None, oneof name or None).
_FieldRow = tuple[str, int, int, int, str | None, str | None]
_MESSAGES: dict[str, tuple[list[_FieldRow], list[int]]] = {
    # message name: (fields, reserved field numbers)
    "CreateIngestStreamRequest": (
        [
            ("table_name", 1, _OPTIONAL, _F.TYPE_STRING, None, None),
            ("descriptor_proto", 3, _OPTIONAL, _F.TYPE_BYTES, None, None),
            ("record_type", 4, _OPTIONAL, _F.TYPE_ENUM, "RecordType", None),
            ("avro_schema", 5, _OPTIONAL, _F.TYPE_STRING, None, None),
        ],
        [2],
    ),
    "IngestRecordRequest": (
        [
            ("offset_id", 1, _OPTIONAL, _F.TYPE_INT64, None, None),
            ("proto_encoded_record", 2, _OPTIONAL, _F.TYPE_BYTES, None, "record"),
            ("json_record", 3, _OPTIONAL, _F.TYPE_STRING, None, "record"),
            ("avro_encoded_record", 4, _OPTIONAL, _F.TYPE_BYTES, None, "record"),
        ],
        [],
    ),
    "ProtoEncodedRecordBatch": ([("records", 1, _REPEATED, _F.TYPE_BYTES, None, None)], []),
    "JsonRecordBatch": ([("records", 1, _REPEATED, _F.TYPE_STRING, None, None)], []),
    "AvroEncodedRecordBatch": ([("records", 1, _REPEATED, _F.TYPE_BYTES, None, None)], []),
    "IngestRecordBatchRequest": (
        [
            ("offset_id", 1, _OPTIONAL, _F.TYPE_INT64, None, None),
            ("proto_encoded_batch", 2, _OPTIONAL, _F.TYPE_MESSAGE, "ProtoEncodedRecordBatch", "batch"),
            ("json_batch", 3, _OPTIONAL, _F.TYPE_MESSAGE, "JsonRecordBatch", "batch"),
            ("avro_encoded_batch", 4, _OPTIONAL, _F.TYPE_MESSAGE, "AvroEncodedRecordBatch", "batch"),
        ],
        [],
    ),
    "EphemeralStreamRequest": (
        [
            ("create_stream", 1, _OPTIONAL, _F.TYPE_MESSAGE, "CreateIngestStreamRequest", "payload"),
            ("ingest_record", 2, _OPTIONAL, _F.TYPE_MESSAGE, "IngestRecordRequest", "payload"),
            ("ingest_record_batch", 3, _OPTIONAL, _F.TYPE_MESSAGE, "IngestRecordBatchRequest", "payload"),
        ],
        [],
    ),
    "CreateIngestStreamResponse": ([("stream_id", 1, _OPTIONAL, _F.TYPE_STRING, None, None)], [2]),
    "IngestRecordResponse": (
        [("durability_ack_up_to_offset", 1, _OPTIONAL, _F.TYPE_INT64, None, None)],
        [],
    ),
    "CloseStreamSignal": (
        [("duration", 1, _OPTIONAL, _F.TYPE_MESSAGE, ".google.protobuf.Duration", None)],
        [],
    ),
    "EphemeralStreamResponse": (
        [
            (
                "create_stream_response",
                1,
                _OPTIONAL,
                _F.TYPE_MESSAGE,
                "CreateIngestStreamResponse",
                "payload",
            ),
            ("ingest_record_response", 2, _OPTIONAL, _F.TYPE_MESSAGE, "IngestRecordResponse", "payload"),
            ("close_stream_signal", 3, _OPTIONAL, _F.TYPE_MESSAGE, "CloseStreamSignal", "payload"),
        ],
        [],
    ),
}

_RECORD_TYPE_VALUES = [("RECORD_TYPE_UNSPECIFIED", 0), ("PROTO", 1), ("JSON", 2), ("AVRO", 4)]


def _qualify(type_name: str) -> str:
    return type_name if type_name.startswith(".") else f".{PACKAGE}.{type_name}"


def file_descriptor_proto() -> descriptor_pb2.FileDescriptorProto:
    """The wire schema as a FileDescriptorProto (what protoc makes of `zerobus.proto`)."""
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=FILE_NAME,
        package=PACKAGE,
        dependency=["google/protobuf/duration.proto"],
    )
    enum = file_proto.enum_type.add(name="RecordType")
    for name, number in _RECORD_TYPE_VALUES:
        enum.value.add(name=name, number=number)
    for message_name, (fields, reserved) in _MESSAGES.items():
        message = file_proto.message_type.add(name=message_name)
        oneofs: list[str] = []
        for name, number, label, field_type, type_name, oneof in fields:
            field = message.field.add(name=name, number=number, label=label, type=field_type)
            field.json_name = _json_name(name)
            if type_name is not None:
                field.type_name = _qualify(type_name)
            if oneof is not None:
                if oneof not in oneofs:
                    oneofs.append(oneof)
                    message.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs.index(oneof)
        for number in reserved:
            message.reserved_range.add(start=number, end=number + 1)
    service = file_proto.service.add(name="Zerobus")
    service.method.add(
        name="EphemeralStream",
        input_type=_qualify("EphemeralStreamRequest"),
        output_type=_qualify("EphemeralStreamResponse"),
        client_streaming=True,
        server_streaming=True,
    )
    return file_proto


def _json_name(field_name: str) -> str:
    """lowerCamelCase, as protoc fills `json_name` in."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _build_classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    duration_file = descriptor_pb2.FileDescriptorProto()
    duration_pb2.DESCRIPTOR.CopyToProto(duration_file)
    pool.AddSerializedFile(duration_file.SerializeToString())
    pool.AddSerializedFile(file_descriptor_proto().SerializeToString())
    file_descriptor = pool.FindFileByName(FILE_NAME)
    return {
        name: message_factory.GetMessageClass(file_descriptor.message_types_by_name[name])
        for name in _MESSAGES
    }


_CLASSES = _build_classes()

# The message classes. Typed as Any: they are built at runtime, so there are no stubs.
CreateIngestStreamRequest: Any = _CLASSES["CreateIngestStreamRequest"]
IngestRecordRequest: Any = _CLASSES["IngestRecordRequest"]
ProtoEncodedRecordBatch: Any = _CLASSES["ProtoEncodedRecordBatch"]
JsonRecordBatch: Any = _CLASSES["JsonRecordBatch"]
AvroEncodedRecordBatch: Any = _CLASSES["AvroEncodedRecordBatch"]
IngestRecordBatchRequest: Any = _CLASSES["IngestRecordBatchRequest"]
EphemeralStreamRequest: Any = _CLASSES["EphemeralStreamRequest"]
CreateIngestStreamResponse: Any = _CLASSES["CreateIngestStreamResponse"]
IngestRecordResponse: Any = _CLASSES["IngestRecordResponse"]
CloseStreamSignal: Any = _CLASSES["CloseStreamSignal"]
EphemeralStreamResponse: Any = _CLASSES["EphemeralStreamResponse"]


class RecordTypeValue:
    """Wire values of the `RecordType` enum."""

    UNSPECIFIED = 0
    PROTO = 1
    JSON = 2
    AVRO = 4


class AvroEncodedRecord(bytes):
    """One Avro-encoded record: bytes that travel in `avro_encoded_record` / `avro_encoded_batch`.

    The AVRO encoder returns these so the request builder knows which oneof field to fill from
    the records themselves (the stream engine only knows JSON or not).
    """

    __slots__ = ()
