"""Internal: The Arrow Flight messages a Zerobus `DoPut` exchanges, built at import time without protoc.

Only what ingestion uses of Arrow's `Flight.proto` (package `arrow.flight.protocol`, proto3):
`FlightDescriptor`, `FlightData` (one Arrow IPC message: its flatbuffer header and its body) and
`PutResult` (the server's acks, JSON in `app_metadata`). Field numbers are Arrow's; the classes
live in a private descriptor pool, like the Zerobus messages, so they import on every protobuf
major version and never clash with a user's own copy of `Flight.proto`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = [
    "ACK_UP_TO_OFFSET",
    "ACK_UP_TO_RECORDS",
    "DO_PUT_PATH",
    "FLIGHT_SERVICE",
    "OFFSET_ID",
    "FlightData",
    "FlightDescriptor",
    "PutResult",
    "flight_file_descriptor_proto",
]

PACKAGE = "arrow.flight.protocol"
FLIGHT_SERVICE = f"{PACKAGE}.FlightService"
DO_PUT_PATH = f"/{FLIGHT_SERVICE}/DoPut"
# JSON keys of Zerobus' `app_metadata` (docs/PROTOCOL.md section 9): a batch's ``{"offset_id": N}``,
# and the server's cumulative ``{"ack_up_to_offset": N, "ack_up_to_records": M}``.
OFFSET_ID = "offset_id"
ACK_UP_TO_OFFSET = "ack_up_to_offset"
ACK_UP_TO_RECORDS = "ack_up_to_records"
_FILE_NAME = "arrow/flight/protocol/zerobus_flight_subset.proto"

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED

# message name -> (field name, number, label, type, message/enum type name or None)
_MESSAGES: dict[str, list[tuple[str, int, int, int, str | None]]] = {
    "FlightDescriptor": [
        ("type", 1, _OPTIONAL, _F.TYPE_ENUM, "FlightDescriptor.DescriptorType"),
        ("cmd", 2, _OPTIONAL, _F.TYPE_BYTES, None),
        ("path", 3, _REPEATED, _F.TYPE_STRING, None),
    ],
    "FlightData": [
        ("flight_descriptor", 1, _OPTIONAL, _F.TYPE_MESSAGE, "FlightDescriptor"),
        ("data_header", 2, _OPTIONAL, _F.TYPE_BYTES, None),
        ("app_metadata", 3, _OPTIONAL, _F.TYPE_BYTES, None),
        ("data_body", 1000, _OPTIONAL, _F.TYPE_BYTES, None),
    ],
    "PutResult": [("app_metadata", 1, _OPTIONAL, _F.TYPE_BYTES, None)],
}


def flight_file_descriptor_proto() -> descriptor_pb2.FileDescriptorProto:
    """The subset of `Flight.proto` above as a FileDescriptorProto."""
    file_proto = descriptor_pb2.FileDescriptorProto(name=_FILE_NAME, package=PACKAGE, syntax="proto3")
    for message_name, fields in _MESSAGES.items():
        message = file_proto.message_type.add(name=message_name)
        if message_name == "FlightDescriptor":
            enum = message.enum_type.add(name="DescriptorType")
            for name, number in (("UNKNOWN", 0), ("PATH", 1), ("CMD", 2)):
                enum.value.add(name=name, number=number)
        for name, number, label, field_type, type_name in fields:
            field = message.field.add(name=name, number=number, label=label, type=field_type)
            if type_name is not None:
                field.type_name = f".{PACKAGE}.{type_name}"
    return file_proto


def _build_classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(flight_file_descriptor_proto().SerializeToString())
    file_descriptor = pool.FindFileByName(_FILE_NAME)
    return {
        name: message_factory.GetMessageClass(file_descriptor.message_types_by_name[name])
        for name in _MESSAGES
    }


_CLASSES = _build_classes()

# Built at runtime: typed as Any (no stubs).
FlightDescriptor: Any = _CLASSES["FlightDescriptor"]
FlightData: Any = _CLASSES["FlightData"]
PutResult: Any = _CLASSES["PutResult"]
