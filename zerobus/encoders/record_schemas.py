"""Internal: What a table's records look like, from whatever the user handed to `TableProperties`.

Every input ends up as a `RecordSchema`: the protobuf class of the ONE record message, the
serialized `DescriptorProto` that `create_stream` sends, and, when known, the Delta types
(`TableSchema`) that let dicts carry dates, timestamps and decimals. The descriptor is always
the message the user named, never another message of its file, and it is checked to be
self-contained (every nested type declared inside it) before any network call, because the
service refuses anything else.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message

from zerobus.encoders.base import is_model_class
from zerobus.errors import SchemaError
from zerobus.schema.descriptor import descriptor_proto as schema_descriptor_proto
from zerobus.schema.descriptor import message_class as schema_message_class
from zerobus.schema.descriptor import nested_messages
from zerobus.schema.ir import (
    ArrayType,
    Column,
    DataType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)

__all__ = [
    "RecordSchema",
    "check_self_contained",
    "record_schema_from_table",
    "resolve_record_schema",
    "schema_from_descriptor",
]

_F = descriptor_pb2.FieldDescriptorProto
_PROTO_PRIMITIVES: dict[int, Primitive] = {
    _F.TYPE_INT32: Primitive.INT,
    _F.TYPE_SINT32: Primitive.INT,
    _F.TYPE_SFIXED32: Primitive.INT,
    _F.TYPE_ENUM: Primitive.INT,
    _F.TYPE_INT64: Primitive.BIGINT,
    _F.TYPE_SINT64: Primitive.BIGINT,
    _F.TYPE_SFIXED64: Primitive.BIGINT,
    _F.TYPE_UINT32: Primitive.BIGINT,
    _F.TYPE_FIXED32: Primitive.BIGINT,
    _F.TYPE_UINT64: Primitive.BIGINT,
    _F.TYPE_FIXED64: Primitive.BIGINT,
    _F.TYPE_FLOAT: Primitive.FLOAT,
    _F.TYPE_DOUBLE: Primitive.DOUBLE,
    _F.TYPE_BOOL: Primitive.BOOLEAN,
    _F.TYPE_BYTES: Primitive.BINARY,
}
_pool_names = itertools.count(1)


@dataclass(frozen=True)
class RecordSchema:
    """The record message of a table: its class, its wire descriptor, its Delta types if known."""

    message_class: Any
    descriptor_proto: bytes
    table_schema: TableSchema | None = None
    # True when `table_schema` holds the real Delta types (codegen, UC, a model), False when it
    # was read back from a compiled descriptor (proto types only: a DATE is just an INT there).
    delta_types: bool = False
    model_class: Any = None

    @property
    def full_name(self) -> str:
        return str(self.message_class.DESCRIPTOR.full_name)


def resolve_record_schema(value: Any) -> RecordSchema | None:
    """Turn a `TableProperties.descriptor` into a `RecordSchema` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, TableSchema):
        return record_schema_from_table(value)
    if is_model_class(value):
        return _from_model_class(value)
    if isinstance(value, Descriptor):
        return _from_descriptor(value)
    if isinstance(value, type) and issubclass(value, Message):
        return _from_descriptor(getattr(value, "DESCRIPTOR"))  # noqa: B009 (not in the type stubs)
    if isinstance(value, descriptor_pb2.DescriptorProto):
        return _from_descriptor_proto(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_descriptor_proto(_parse_serialized(bytes(value)))
    raise SchemaError(
        f"TableProperties descriptor of type {type(value).__name__} is not supported: pass a message "
        "Descriptor (MyRecord.DESCRIPTOR), a message class, a DescriptorProto (or its bytes), a "
        "zerobus.codegen TableSchema, or a generated ZerobusModel class"
    )


def record_schema_from_table(schema: TableSchema) -> RecordSchema:
    cls = schema_message_class(schema)
    proto = schema_descriptor_proto(schema).SerializeToString()
    return RecordSchema(cls, proto, schema, delta_types=True)


def _from_model_class(model: Any) -> RecordSchema:
    schema = model.zerobus_schema()
    if not isinstance(schema, TableSchema):
        raise SchemaError(
            f"{model.__name__}.zerobus_schema() returned {type(schema).__name__}, not a TableSchema"
        )
    record = record_schema_from_table(schema)
    return RecordSchema(record.message_class, record.descriptor_proto, schema, True, model)


def _from_descriptor(descriptor: Any) -> RecordSchema:
    check_self_contained(descriptor)
    proto = descriptor_pb2.DescriptorProto()
    descriptor.CopyToProto(proto)
    cls = message_factory.GetMessageClass(descriptor)
    try:
        table_schema: TableSchema | None = schema_from_descriptor(descriptor)
    except SchemaError:
        table_schema = None  # proto types with no Delta counterpart: dicts go to protobuf as they are
    return RecordSchema(cls, proto.SerializeToString(), table_schema)


def check_self_contained(root: Any) -> None:
    """Every message or enum a field uses must be declared inside `root` (service error 4033)."""
    prefix = root.full_name + "."
    pending, seen = [root], set()
    while pending:
        message = pending.pop()
        if message.full_name in seen:
            continue
        seen.add(message.full_name)
        for field in message.fields:
            used = field.message_type or field.enum_type
            if used is None:
                continue
            if not used.full_name.startswith(prefix):
                raise SchemaError(
                    f"uses {used.full_name}, which is not declared inside {root.full_name}: the service "
                    "requires a self-contained record message (no imports, no well-known types; error 4033)",
                    column=f"{message.full_name[len(prefix) :] + '.' if message is not root else ''}{field.name}",
                )
            if field.message_type is not None:
                pending.append(field.message_type)


def _from_descriptor_proto(proto: descriptor_pb2.DescriptorProto) -> RecordSchema:
    if not proto.name:
        raise SchemaError("the DescriptorProto has no message name")
    package = _package_of(proto)
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=f"zerobus_records/{next(_pool_names)}_{proto.name}.proto", package=package, syntax="proto2"
    )
    file_proto.message_type.add().CopyFrom(proto)
    pool = descriptor_pool.DescriptorPool()
    try:
        pool.Add(file_proto)
        descriptor = pool.FindMessageTypeByName(f"{package}.{proto.name}" if package else proto.name)
    except (TypeError, KeyError, ValueError) as error:
        raise SchemaError(
            f"DescriptorProto {proto.name!r} is not a self-contained message: {error}", cause=error
        ) from error
    return _from_descriptor(descriptor)


def _package_of(proto: descriptor_pb2.DescriptorProto) -> str:
    """Fully-qualified nested type names (`.pkg.Record.Nested`) reveal the original package."""
    marker = f".{proto.name}."
    for name in _type_names(proto):
        if name.startswith(".") and marker in name:
            return name[1 : name.index(marker)]
    return ""


def _type_names(proto: descriptor_pb2.DescriptorProto) -> list[str]:
    names = [field.type_name for field in proto.field if field.type_name]
    for nested in proto.nested_type:
        names.extend(_type_names(nested))
    return names


def _parse_serialized(data: bytes) -> descriptor_pb2.DescriptorProto:
    """Bytes of a DescriptorProto, or of a FileDescriptorProto holding exactly one message."""
    try:
        message = descriptor_pb2.DescriptorProto.FromString(data)
        if message.name and message.field and all(f.number > 0 and f.type for f in message.field):
            return message
    except DecodeError:
        pass
    try:
        file_proto = descriptor_pb2.FileDescriptorProto.FromString(data)
    except DecodeError as error:
        raise SchemaError(
            "descriptor bytes are neither a DescriptorProto nor a FileDescriptorProto"
        ) from error
    if len(file_proto.message_type) != 1:
        names = ", ".join(m.name for m in file_proto.message_type) or "none"
        raise SchemaError(
            f"descriptor bytes are a file with {len(file_proto.message_type)} messages ({names}); pass the "
            "record message's Descriptor (MyRecord.DESCRIPTOR) so there is no doubt which one is meant"
        )
    return file_proto.message_type[0]


def schema_from_descriptor(descriptor: Any) -> TableSchema:
    """Read proto types back as a table schema (INT for int32, STRUCT for messages...).

    Only the proto-level types are known this way; it is what lets a dict be checked with
    precise errors against a compiled descriptor.
    """
    proto = descriptor_pb2.DescriptorProto()
    descriptor.CopyToProto(proto)
    nested = nested_messages(proto, "." + descriptor.full_name)
    columns = []
    for position, field in enumerate(proto.field):
        columns.append(
            Column(
                field.name,
                _field_type(field, nested),
                nullable=field.label != _F.LABEL_REQUIRED,
                position=position,
            )
        )
    return TableSchema(descriptor.full_name, tuple(columns))


def _field_type(field: Any, nested: dict[str, descriptor_pb2.DescriptorProto]) -> DataType:
    if field.type == _F.TYPE_MESSAGE:
        message = _nested_message(field, nested)
        if message.options.map_entry:
            key, value = message.field[0], message.field[1]
            return MapType(_element_type(key, nested), _element_type(value, nested))
    element = _element_type(field, nested)
    return ArrayType(element) if field.label == _F.LABEL_REPEATED else element


def _nested_message(
    field: Any, nested: dict[str, descriptor_pb2.DescriptorProto]
) -> descriptor_pb2.DescriptorProto:
    message = nested.get(field.type_name)
    if message is None:
        raise SchemaError(f"refers to {field.type_name}, not declared inside the record", column=field.name)
    return message


def _element_type(field: Any, nested: dict[str, descriptor_pb2.DescriptorProto]) -> DataType:
    if field.type == _F.TYPE_MESSAGE:
        message = _nested_message(field, nested)
        return StructType(tuple(StructField(f.name, _field_type(f, nested)) for f in message.field))
    if field.type == _F.TYPE_STRING:
        return StringType()
    primitive = _PROTO_PRIMITIVES.get(field.type)
    if primitive is None:
        raise SchemaError(f"proto type {field.type} is not supported in Zerobus records", column=field.name)
    return PrimitiveType(primitive)
