"""Internal: Check a stream's descriptor against its table, and load it as a message class.

A PROTO stream sends the serialized `DescriptorProto` of one record message. It must be
self-contained (every message-typed field refers to a type nested inside it: no imports, no
well-known types), else creation fails with "Error code 4033". It must also fit the table: every
field is a column, every NOT NULL column has a field, and each field's proto type and label are
the ones docs/PROTOCOL.md section 7 gives for the column's Delta type (nested structs, arrays and maps
checked member by member). Errors name the column path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from zerobus.protocol.constants import ERROR_SCHEMA_NOT_SELF_CONTAINED, error_code_text
from zerobus.schema.descriptor import nested_messages
from zerobus.schema.ir import ArrayType, DataType, MapType, StructField, StructType, TableSchema
from zerobus.schema.typemap import proto_scalar

__all__ = ["CompiledDescriptor", "DescriptorError", "compile_descriptor"]

_F = descriptor_pb2.FieldDescriptorProto
_TYPE_NAMES = {value: name.removeprefix("TYPE_").lower() for name, value in _F.Type.items()}


class DescriptorError(ValueError):
    """The descriptor is unusable; `code` is the service's error code (4033 or None)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        text = f"{error_code_text(code)}: {message}" if code is not None else message
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class CompiledDescriptor:
    """A checked descriptor: its message class and which NOT NULL columns it declares `required`."""

    message_class: Any
    descriptor: Any
    # The checked DescriptorProto, type names rewritten to ``.Root.Inner`` (no package).
    message_proto: descriptor_pb2.DescriptorProto
    required_fields: frozenset[str]


def compile_descriptor(descriptor_bytes: bytes, schema: TableSchema) -> CompiledDescriptor:
    """Parse, check (self-contained, compatible with `schema`) and load a record descriptor."""
    message = descriptor_pb2.DescriptorProto()
    try:
        message.ParseFromString(descriptor_bytes)
    except DecodeError as error:
        raise DescriptorError(f"descriptor_proto is not a serialized DescriptorProto: {error}") from None
    if not message.name:
        raise DescriptorError("descriptor_proto has no message name")
    nested_paths = nested_messages(message, message.name)
    _make_self_contained(message, message.name, nested_paths)
    _check_fields(message, schema.as_struct(), "", nested_paths, top_level=True)
    file_proto = descriptor_pb2.FileDescriptorProto(
        name=f"zerobus_stream/{message.name}.proto", syntax="proto2"
    )
    file_proto.message_type.add().CopyFrom(message)
    pool = descriptor_pool.DescriptorPool()
    try:
        pool.Add(file_proto)
        descriptor = pool.FindMessageTypeByName(message.name)
    except (TypeError, ValueError) as error:
        raise DescriptorError(f"descriptor_proto cannot be loaded: {error}") from None
    required = frozenset(f.name for f in message.field if f.label == _F.LABEL_REQUIRED)
    return CompiledDescriptor(message_factory.GetMessageClass(descriptor), descriptor, message, required)


def _resolve(type_name: str, nested_paths: dict[str, descriptor_pb2.DescriptorProto]) -> str | None:
    """The nested path a field's `type_name` refers to, or None if it points outside the message.

    Type names may be fully qualified with a package the DescriptorProto does not carry
    (``.pkg.Root.Inner``) or relative (``Inner``); the longest matching suffix wins.
    """
    name = type_name.lstrip(".")
    best: str | None = None
    for path in nested_paths:
        if (name == path or name.endswith("." + path)) and (best is None or len(path) > len(best)):
            best = path
    if best is None and "." not in name:
        # A relative name: the official tools emit these for nested types.
        for path in nested_paths:
            if path.endswith("." + name) and (best is None or len(path) < len(best)):
                best = path
    return best


def _make_self_contained(
    message: descriptor_pb2.DescriptorProto,
    path: str,
    nested_paths: dict[str, descriptor_pb2.DescriptorProto],
) -> None:
    """Check every message/enum reference resolves inside the root; rewrite it to a package-free name."""
    for field in message.field:
        if field.type in (_F.TYPE_MESSAGE, _F.TYPE_GROUP, _F.TYPE_ENUM) or field.type_name:
            if field.type == _F.TYPE_ENUM:
                raise DescriptorError(
                    f"Proto not self-contained or unsupported: field '{field.name}' of '{path}' is an enum; "
                    "Zerobus records take no enums",
                    ERROR_SCHEMA_NOT_SELF_CONTAINED,
                )
            target = _resolve(field.type_name, nested_paths)
            if target is None:
                raise DescriptorError(
                    f"Proto not self-contained: field '{field.name}' of '{path}' refers to "
                    f"'{field.type_name}', which is not declared inside '{next(iter(nested_paths))}' "
                    "(no imports or well-known types are allowed)",
                    ERROR_SCHEMA_NOT_SELF_CONTAINED,
                )
            field.type_name = "." + target
            if not field.HasField("type"):
                field.type = _F.TYPE_MESSAGE
    for nested in message.nested_type:
        _make_self_contained(nested, f"{path}.{nested.name}", nested_paths)


def _field_type_text(field: descriptor_pb2.FieldDescriptorProto) -> str:
    return str(_TYPE_NAMES.get(field.type, field.type))


def _check_fields(
    message: descriptor_pb2.DescriptorProto,
    struct: StructType,
    path: str,
    nested_paths: dict[str, descriptor_pb2.DescriptorProto],
    top_level: bool,
) -> None:
    columns = {f.name: f for f in struct.fields}
    lowered = {name.lower(): f for name, f in columns.items()}
    kind = "column" if top_level else "field"
    _check_distinct_ignoring_case(message, path, kind)
    for field in message.field:
        column_path = f"{path}.{field.name}" if path else field.name
        column = columns.get(field.name) or lowered.get(field.name.lower())
        if column is None:
            raise DescriptorError(
                f"{kind} '{column_path}' of the descriptor does not exist in the table "
                f"(table {kind}s: {sorted(columns)})"
            )
        _check_field(field, column, column_path, nested_paths, top_level)
    declared = {f.name.lower() for f in message.field}
    for column in struct.fields:
        if not column.nullable and column.name.lower() not in declared:
            column_path = f"{path}.{column.name}" if path else column.name
            raise DescriptorError(
                f"{kind} '{column_path}' is NOT NULL but the descriptor has no field for it"
            )


def _check_distinct_ignoring_case(message: descriptor_pb2.DescriptorProto, path: str, kind: str) -> None:
    """Delta column names are case-insensitive: `id` and `ID` would land in one column."""
    seen: dict[str, str] = {}
    for field in message.field:
        first = seen.get(field.name.lower())
        if first is not None:
            where = f" of '{path}'" if path else ""
            raise DescriptorError(
                f"descriptor fields '{first}' and '{field.name}'{where} name the same {kind} "
                "(column names are case-insensitive)"
            )
        seen[field.name.lower()] = field.name


def _check_field(
    field: descriptor_pb2.FieldDescriptorProto,
    column: StructField,
    path: str,
    nested_paths: dict[str, descriptor_pb2.DescriptorProto],
    top_level: bool,
) -> None:
    data_type = column.type
    repeated = field.label == _F.LABEL_REPEATED
    expected_text = data_type.type_text
    if isinstance(data_type, MapType):
        entry = nested_paths.get(field.type_name.lstrip(".")) if field.type == _F.TYPE_MESSAGE else None
        if not repeated or entry is None or not entry.options.map_entry:
            raise _mismatch(path, expected_text, "a map field", field)
        entry_fields = {f.name: f for f in entry.field}
        key, value = entry_fields.get("key"), entry_fields.get("value")
        if key is None or value is None:
            raise DescriptorError(f"column '{path}': malformed map entry '{entry.name}'")
        _check_value(key, data_type.key, f"{path}.key", nested_paths)
        _check_value(value, data_type.value, f"{path}.value", nested_paths)
        return
    if isinstance(data_type, ArrayType):
        if not repeated:
            raise _mismatch(path, expected_text, "a repeated field", field)
        _check_value(field, data_type.element, f"{path}.element", nested_paths)
        return
    if repeated:
        raise _mismatch(path, expected_text, "a non-repeated field", field)
    if field.label == _F.LABEL_REQUIRED and not top_level:
        raise DescriptorError(
            f"field '{path}': struct members must be optional, the descriptor says required"
        )
    _check_value(field, data_type, path, nested_paths)


def _check_value(
    field: descriptor_pb2.FieldDescriptorProto,
    data_type: DataType,
    path: str,
    nested_paths: dict[str, descriptor_pb2.DescriptorProto],
) -> None:
    """The field's element type (ignoring its label) against a Delta type."""
    if isinstance(data_type, StructType):
        nested = nested_paths.get(field.type_name.lstrip(".")) if field.type == _F.TYPE_MESSAGE else None
        if nested is None or nested.options.map_entry:
            raise _mismatch(path, data_type.type_text, "a nested message", field)
        _check_fields(nested, data_type, path, nested_paths, top_level=False)
        return
    if isinstance(data_type, (ArrayType, MapType)):
        raise DescriptorError(f"column '{path}': {data_type.type_text} cannot be nested here in Zerobus")
    scalar = proto_scalar(data_type)
    assert scalar is not None
    if field.type != scalar.type:
        raise _mismatch(path, data_type.type_text, scalar.name, field)


def _mismatch(
    path: str, delta_type: str, expected: str, field: descriptor_pb2.FieldDescriptorProto
) -> DescriptorError:
    label = {_F.LABEL_OPTIONAL: "optional", _F.LABEL_REQUIRED: "required", _F.LABEL_REPEATED: "repeated"}
    got = f"{label.get(field.label, '?')} {_field_type_text(field)}"
    if field.type_name:
        got += f" {field.type_name.lstrip('.')}"
    return DescriptorError(
        f"column '{path}' has type {delta_type}, which needs {expected} in the descriptor, got '{got}'"
    )
