"""Internal: Request messages whose batch records are typed, so one C call decodes a whole batch.

On the wire `ProtoEncodedRecordBatch.records` is `repeated bytes`. Declared instead as
`repeated <Record>` (same field number, same length-delimited wire type), the very same bytes
parse into decoded records: upb decodes a 1000-record request in one call instead of 1000
`FromString` calls. The variant is built per stream, in the private pool that already holds
the client's record descriptor, under a private package so its names cannot clash with the
record's.

Only batches are typed. A single record (`IngestRecordRequest.proto_encoded_record`) stays
bytes: a message field that occurs twice on the wire is merged while bytes keep the last
occurrence, so a typed single could be checked differently from what the log replays, and
decoding one record alone costs little next to the request around it.
"""

from __future__ import annotations

import logging
from typing import Any

from google.protobuf import descriptor_pb2, message_factory

from zerobus.protocol.messages import PACKAGE, file_descriptor_proto

__all__ = ["TYPED_PACKAGE", "TypedRequests", "typed_requests"]

logger = logging.getLogger(__name__)

TYPED_PACKAGE = "zerobus_server_typed_requests"
_F = descriptor_pb2.FieldDescriptorProto
_REQUEST_MESSAGES = (
    "CreateIngestStreamRequest",
    "IngestRecordRequest",
    "ProtoEncodedRecordBatch",
    "JsonRecordBatch",
    "AvroEncodedRecordBatch",
    "IngestRecordBatchRequest",
    "EphemeralStreamRequest",
)


class TypedRequests:
    """The typed `EphemeralStreamRequest` class and its typed `ProtoEncodedRecordBatch` class."""

    def __init__(self, request_class: Any, batch_class: Any) -> None:
        self.request_class = request_class
        self.batch_class = batch_class


def typed_requests(record: Any) -> TypedRequests | None:
    """Typed request classes for the record `Descriptor`, or None if its pool cannot take them.

    The record must sit in a pool of its own (the server's per-stream pool): the variant is
    added to that pool. None (the caller decodes record by record) if the names clash.
    """
    file_proto = _typed_file(record)
    pool = record.file.pool
    try:
        pool.Add(file_proto)
        request = pool.FindMessageTypeByName(f"{TYPED_PACKAGE}.EphemeralStreamRequest")
        batch = pool.FindMessageTypeByName(f"{TYPED_PACKAGE}.ProtoEncodedRecordBatch")
    except (TypeError, ValueError, KeyError) as error:
        logger.debug("no typed requests for %s: %s", record.full_name, error)
        return None
    return TypedRequests(message_factory.GetMessageClass(request), message_factory.GetMessageClass(batch))


def _typed_file(record: Any) -> descriptor_pb2.FileDescriptorProto:
    """The protocol's request messages, renamed into a private package, batch records typed."""
    protocol = file_descriptor_proto()
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=f"{record.file.name}.{TYPED_PACKAGE}.proto",
        package=TYPED_PACKAGE,
        syntax="proto2",
        dependency=[record.file.name],
    )
    file_proto.enum_type.extend(protocol.enum_type)
    old_prefix, new_prefix = f".{PACKAGE}.", f".{TYPED_PACKAGE}."
    for message in protocol.message_type:
        if message.name not in _REQUEST_MESSAGES:
            continue
        typed = file_proto.message_type.add()
        typed.CopyFrom(message)
        for field in typed.field:
            if field.type_name.startswith(old_prefix):
                field.type_name = new_prefix + field.type_name[len(old_prefix) :]
        if typed.name == "ProtoEncodedRecordBatch":
            (records,) = typed.field
            records.type = _F.TYPE_MESSAGE
            records.type_name = "." + record.full_name
    return file_proto
