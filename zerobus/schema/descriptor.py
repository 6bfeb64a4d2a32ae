"""Internal: Build the protobuf descriptor of a table at runtime: no protoc, no generated code.

`descriptor_proto()` is exactly what protoc makes of the .proto text we emit for the same
layout (json_name and map entries included), `message_class()` loads it into a private
`DescriptorPool` so it never clashes with the user's own `_pb2` modules. `message_builder()`
and `message_reader()` convert between wire rows (nested dicts) and messages of any runtime
`Descriptor`: ours, a user's `_pb2` class, or the descriptor a client sent the local server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from zerobus.schema.ir import ArrayType, DataType, MapType, StructField, StructType, TableSchema
from zerobus.schema.proto_layout import ProtoField, ProtoMessage, json_name, layout

__all__ = [
    "descriptor_proto",
    "file_descriptor_proto",
    "is_repeated",
    "message_builder",
    "message_class",
    "message_descriptor",
    "message_reader",
    "nested_messages",
]

_F = descriptor_pb2.FieldDescriptorProto
_LABELS = {
    "optional": _F.LABEL_OPTIONAL,
    "required": _F.LABEL_REQUIRED,
    "repeated": _F.LABEL_REPEATED,
    "map": _F.LABEL_REPEATED,
}


def _fill_message(target: descriptor_pb2.DescriptorProto, message: ProtoMessage, scope: str) -> None:
    target.name = message.name
    full_name = f"{scope}.{message.name}"
    for field in message.fields:
        nested = field.value.message
        if nested is not None:
            _fill_message(target.nested_type.add(), nested, full_name)
        if field.label == "map":
            _add_map_entry(target, field, full_name)
        _add_field(target, field, full_name)


def _add_field(target: descriptor_pb2.DescriptorProto, field: ProtoField, scope: str) -> None:
    proto_field = target.field.add(
        name=field.name, number=field.number, label=_LABELS[field.label], json_name=json_name(field.name)
    )
    if field.label == "map":
        proto_field.type = _F.TYPE_MESSAGE
        proto_field.type_name = f"{scope}.{field.map_entry_name}"
    elif field.value.message is not None:
        proto_field.type = _F.TYPE_MESSAGE
        proto_field.type_name = f"{scope}.{field.value.message.name}"
    else:
        assert field.value.scalar is not None
        proto_field.type = field.value.scalar.type


def _add_map_entry(target: descriptor_pb2.DescriptorProto, field: ProtoField, scope: str) -> None:
    assert field.key is not None
    entry = target.nested_type.add(name=field.map_entry_name)
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, label=_F.LABEL_OPTIONAL, type=field.key.type, json_name="key")
    value = entry.field.add(name="value", number=2, label=_F.LABEL_OPTIONAL, json_name="value")
    if field.value.message is not None:
        value.type = _F.TYPE_MESSAGE
        value.type_name = f"{scope}.{field.value.message.name}"
    else:
        assert field.value.scalar is not None
        value.type = field.value.scalar.type


def nested_messages(
    message: descriptor_pb2.DescriptorProto, path: str
) -> dict[str, descriptor_pb2.DescriptorProto]:
    """`message` and every message declared inside it, by dotted path from `path` (``Root.Inner``)."""
    found = {path: message}
    for nested in message.nested_type:
        found.update(nested_messages(nested, f"{path}.{nested.name}"))
    return found


def descriptor_proto(
    schema: TableSchema, message_name: str | None = None, package: str = ""
) -> descriptor_pb2.DescriptorProto:
    """The record message as a `DescriptorProto` (what `create_stream` sends for PROTO streams)."""
    result = descriptor_pb2.DescriptorProto()
    _fill_message(result, layout(schema, message_name), f".{package}" if package else "")
    return result


def file_descriptor_proto(
    schema: TableSchema, message_name: str | None = None, file_name: str | None = None, package: str = ""
) -> descriptor_pb2.FileDescriptorProto:
    """A one-message proto2 file holding the record message (no imports: self-contained)."""
    message = descriptor_proto(schema, message_name, package)
    file_proto = descriptor_pb2.FileDescriptorProto(name=file_name or f"{message.name}.proto")
    if package:
        file_proto.package = package
    file_proto.message_type.add().CopyFrom(message)
    return file_proto


@lru_cache(maxsize=128)
def message_descriptor(schema: TableSchema, message_name: str | None = None) -> Any:
    """The record message's `Descriptor`, loaded into a private pool (cached per schema)."""
    pool = descriptor_pool.DescriptorPool()
    file_proto = file_descriptor_proto(schema, message_name, file_name=f"zerobus_runtime/{schema.name}.proto")
    pool.AddSerializedFile(file_proto.SerializeToString())
    return pool.FindFileByName(file_proto.name).message_types_by_name[file_proto.message_type[0].name]


def message_class(schema: TableSchema, message_name: str | None = None) -> Any:
    """A protobuf message class for the table, built at runtime (no protoc)."""
    return message_factory.GetMessageClass(message_descriptor(schema, message_name))


MessageBuilder = Callable[[Mapping[str, Any]], Any]


def message_builder(message_class: Any) -> MessageBuilder:
    """A function making a message from a row in wire form (nested dicts, lists, maps).

    The keyword constructor accepts all of it on protobuf 6 and later; protobuf 5 refuses a dict
    as the value of a map whose values are messages. For messages with such a map anywhere
    below them, those values are built into messages first; every other message goes straight
    to the constructor, so the common case costs nothing extra.
    """
    return _builder(message_class.DESCRIPTOR, {})


def _builder(descriptor: Any, cache: dict[str, MessageBuilder | None]) -> MessageBuilder:
    cls = message_factory.GetMessageClass(descriptor)
    fixes = _field_fixes(descriptor, cache)
    if not fixes:
        return lambda row: cls(**row)

    def build(row: Mapping[str, Any]) -> Any:
        fixed = dict(row)
        for name, fix in fixes:
            value = fixed.get(name)
            if value is not None:
                fixed[name] = fix(value)
        return cls(**fixed)

    return build


def _field_fixes(
    descriptor: Any, cache: dict[str, MessageBuilder | None]
) -> list[tuple[str, Callable[[Any], Any]]]:
    """(field, conversion) for the fields whose dict values need building into messages."""
    fixes: list[tuple[str, Callable[[Any], Any]]] = []
    for field in descriptor.fields:
        target = field.message_type
        if target is None:
            continue
        if target.GetOptions().map_entry:
            value_type = target.fields_by_name["value"].message_type
            if value_type is not None:
                build_value = _builder(value_type, cache)
                fixes.append((field.name, _map_values(build_value)))
            continue
        nested = _nested_builder(target, cache)
        if nested is None:
            continue
        if is_repeated(field):
            fixes.append((field.name, _each(nested)))
        else:
            fixes.append((field.name, _dicts_only(nested)))
    return fixes


def is_repeated(field: Any) -> bool:
    """Whether a `FieldDescriptor` is repeated (maps too): `is_repeated` on protobuf 6+, `label`
    (removed in 7) on protobuf 5."""
    flag = getattr(field, "is_repeated", None)
    if flag is not None:
        return bool(flag)
    return bool(field.label == field.LABEL_REPEATED)


def _nested_builder(descriptor: Any, cache: dict[str, MessageBuilder | None]) -> MessageBuilder | None:
    """A builder for a nested message, or None when its dicts can go to the constructor as they are."""
    if descriptor.full_name not in cache:
        cache[descriptor.full_name] = None  # guards recursive message types
        if _field_fixes(descriptor, cache):
            cache[descriptor.full_name] = _builder(descriptor, cache)
    return cache[descriptor.full_name]


def _map_values(build: MessageBuilder) -> Callable[[Any], Any]:
    return lambda mapping: {
        key: build(value) if isinstance(value, Mapping) else value for key, value in mapping.items()
    }


def _each(build: MessageBuilder) -> Callable[[Any], Any]:
    return lambda items: [build(item) if isinstance(item, Mapping) else item for item in items]


def _dicts_only(build: MessageBuilder) -> Callable[[Any], Any]:
    return lambda value: build(value) if isinstance(value, Mapping) else value


MessageReader = Callable[[Any], dict[str, Any]]

# How a field is read (see `_read_fields`).
_SCALAR, _MESSAGE, _SCALARS, _MESSAGES, _SCALAR_MAP, _MESSAGE_MAP = range(6)
_ReadStep = tuple[int, str, str, MessageReader | None]


def message_reader(descriptor: Any, struct: StructType | None = None) -> MessageReader:
    """A function making a wire row (nested dicts, lists, maps) from a decoded message.

    The inverse of `message_builder`, compiled from any runtime `Descriptor`. Singular fields
    appear only when set; repeated fields always, as lists, and maps always, as dicts (proto
    cannot tell an empty ARRAY or MAP from a NULL one); keys follow the fields' declaration
    order. Keys are field names, or, given `struct` (a table's `as_struct()` or a STRUCT type),
    the struct's spelling of each member, matched case-insensitively at every level, the way
    the local server matches a client's descriptor to a table.
    """
    return _reader(descriptor, struct, {})


def _reader(
    descriptor: Any, struct: StructType | None, cache: dict[str, MessageReader | None]
) -> MessageReader:
    steps: list[_ReadStep] = []
    for field in descriptor.fields:
        member = _member(struct, field.name)
        key = field.name if member is None else member.name
        member_type = None if member is None else member.type
        target = field.message_type
        if target is not None and target.GetOptions().map_entry:
            value_type = target.fields_by_name["value"].message_type
            if value_type is None:
                steps.append((_SCALAR_MAP, field.name, key, None))
            else:
                value_struct = member_type.value if isinstance(member_type, MapType) else None
                steps.append((_MESSAGE_MAP, field.name, key, _nested_reader(value_type, value_struct, cache)))
        elif is_repeated(field):
            if target is None:
                steps.append((_SCALARS, field.name, key, None))
            else:
                element = member_type.element if isinstance(member_type, ArrayType) else None
                steps.append((_MESSAGES, field.name, key, _nested_reader(target, element, cache)))
        elif target is None:
            steps.append((_SCALAR, field.name, key, None))
        else:
            steps.append((_MESSAGE, field.name, key, _nested_reader(target, member_type, cache)))
    return _read_fields(tuple(steps))


def _member(struct: StructType | None, name: str) -> StructField | None:
    if struct is None:
        return None
    lowered = name.lower()
    found = None
    for member in struct.fields:
        if member.name == name:
            return member
        if found is None and member.name.lower() == lowered:
            found = member
    return found


def _nested_reader(
    descriptor: Any, data_type: DataType | None, cache: dict[str, MessageReader | None]
) -> MessageReader:
    if isinstance(data_type, StructType):
        return _reader(descriptor, data_type, cache)  # a schema is finite: no recursion
    name = descriptor.full_name
    if name in cache:
        compiled = cache[name]
        if compiled is not None:
            return compiled
        return _deferred(cache, name)  # a recursive message type, still being compiled
    cache[name] = None
    compiled = cache[name] = _reader(descriptor, None, cache)
    return compiled


def _deferred(cache: dict[str, MessageReader | None], name: str) -> MessageReader:
    def read(message: Any) -> dict[str, Any]:
        compiled = cache[name]
        assert compiled is not None  # compiled by the time a message is read
        return compiled(message)

    return read


def _read_fields(steps: tuple[_ReadStep, ...]) -> MessageReader:
    if all(how == _SCALAR for how, _, _, _ in steps):
        return _read_scalars(tuple((name, key) for _, name, key, _ in steps))

    def read(message: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for how, name, key, nested in steps:
            if how == _SCALAR:
                if message.HasField(name):
                    out[key] = getattr(message, name)
            elif how == _SCALARS:
                out[key] = list(getattr(message, name))
            elif how == _MESSAGE:
                if message.HasField(name):
                    out[key] = nested(getattr(message, name))  # type: ignore[misc]
            elif how == _MESSAGES:
                out[key] = [nested(item) for item in getattr(message, name)]  # type: ignore[misc]
            elif how == _SCALAR_MAP:
                out[key] = dict(getattr(message, name))
            else:
                out[key] = {k: nested(v) for k, v in getattr(message, name).items()}  # type: ignore[misc]
        return out

    return read


def _read_scalars(fields: tuple[tuple[str, str], ...]) -> MessageReader:
    """The common flat record: only singular scalars (cheaper than the general loop)."""

    def read(message: Any) -> dict[str, Any]:
        has = message.HasField
        return {key: getattr(message, name) for name, key in fields if has(name)}

    return read
