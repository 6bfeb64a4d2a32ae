"""Internal: The proto2 shape of a table: message, field numbers, labels and nested message names.

Computed once from the schema IR; the .proto template and the runtime descriptor builder both
walk this layout, so the text and the descriptor cannot disagree. The layout follows the
official `generate_proto` tool: fields numbered from 1 in column order skipping 19000-19999,
top-level labels `required` for NOT NULL columns and `optional` otherwise, struct members always
`optional`, ARRAY as `repeated`, MAP as `map<K, V>`, and each STRUCT as a nested message named
the PascalCase of its field, declared just before that field inside the enclosing message.
The official tool's restrictions are enforced with errors that name the column path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from zerobus.errors import SchemaError
from zerobus.schema.ir import ArrayType, DataType, MapType, StructField, StructType, TableSchema
from zerobus.schema.typemap import MAP_KEY_PROTO_TYPES, ProtoScalar, proto_scalar

__all__ = [
    "ProtoField",
    "ProtoMessage",
    "ProtoType",
    "json_name",
    "layout",
    "pascal_case",
    "validate_proto_name",
]

_PROTO_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_NUMBERS = range(19000, 20000)


@dataclass(frozen=True)
class ProtoType:
    """A field's element type: a scalar, or a nested message declared in the enclosing one."""

    scalar: ProtoScalar | None = None
    message: ProtoMessage | None = None

    @property
    def name(self) -> str:
        if self.scalar is not None:
            return self.scalar.name
        assert self.message is not None
        return self.message.name


@dataclass(frozen=True)
class ProtoField:
    name: str
    number: int
    label: str  # "optional" | "required" | "repeated" | "map"
    value: ProtoType  # element type for repeated, value type for maps
    key: ProtoScalar | None  # map key type, only for label "map"
    source: DataType  # the Delta type the field was made from
    comment: str | None = None

    @property
    def type_text(self) -> str:
        """The type as written in .proto text (`int64`, `Nested`, `map<string, int32>`)."""
        if self.label == "map":
            assert self.key is not None
            return f"map<{self.key.name}, {self.value.name}>"
        return self.value.name

    @property
    def map_entry_name(self) -> str:
        """The nested entry message protoc generates for a map field."""
        return pascal_case(self.name) + "Entry"


@dataclass(frozen=True)
class ProtoMessage:
    name: str
    fields: tuple[ProtoField, ...]

    @property
    def nested(self) -> tuple[ProtoMessage, ...]:
        """Messages declared inside this one, in declaration order."""
        return tuple(f.value.message for f in self.fields if f.value.message is not None)


def pascal_case(name: str) -> str:
    """`device_info` -> `DeviceInfo`: the official tool's nested message names, and protoc's
    rule for map entry names (`tags` -> `TagsEntry`)."""
    return "".join(word[0].upper() + word[1:] for word in name.split("_") if word)


def validate_proto_name(name: str, path: str) -> str:
    if not _PROTO_IDENTIFIER.match(name):
        raise SchemaError(
            f"name {name!r} is not a valid protobuf identifier (letters, digits and underscore, "
            "not starting with a digit)",
            path,
        )
    return name


def _field_numbers(count: int) -> list[int]:
    numbers: list[int] = []
    number = 1
    while len(numbers) < count:
        if number in RESERVED_NUMBERS:
            number = RESERVED_NUMBERS.stop
        numbers.append(number)
        number += 1
    return numbers


def json_name(field_name: str) -> str:
    """protoc's json_name: drop underscores, capitalise the letter after each."""
    out, upper_next = [], False
    for ch in field_name:
        if ch == "_":
            upper_next = True
        elif upper_next:
            out.append(ch.upper())
            upper_next = False
        else:
            out.append(ch)
    return "".join(out)


def _check_json_names(fields: list[StructField], path: str) -> None:
    """Protobuf runtimes refuse a message where two fields share a JSON name (`a_b` and `aB`)."""
    seen: dict[str, str] = {}
    for struct_field in fields:
        key = json_name(struct_field.name)
        if key in seen:
            field_path = f"{path}.{struct_field.name}" if path else struct_field.name
            raise SchemaError(
                f"clashes with field {seen[key]!r}: both have the protobuf JSON name {key!r}, "
                "which protobuf runtimes reject",
                field_path,
            )
        seen[key] = struct_field.name


class _Builder:
    def __init__(self, structs_before: int = 0) -> None:
        # Structs met so far, in declaration order: names a struct whose field name has no letters.
        self.struct_count = structs_before

    def message(self, name: str, fields: list[StructField], path: str, top_level: bool) -> ProtoMessage:
        # Field names, nested messages and map entries share one scope in protobuf.
        taken: set[str] = {f.name for f in fields}
        taken |= {pascal_case(f.name) + "Entry" for f in fields if isinstance(f.type, MapType)}
        built: list[ProtoField] = []
        for number, struct_field in zip(_field_numbers(len(fields)), fields, strict=False):
            field_path = f"{path}.{struct_field.name}" if path else struct_field.name
            field_name = validate_proto_name(struct_field.name, field_path)
            built.append(self.field(field_name, number, struct_field, field_path, top_level, taken))
        _check_json_names(fields, path)
        return ProtoMessage(name, tuple(built))

    def field(
        self, name: str, number: int, struct_field: StructField, path: str, top_level: bool, taken: set[str]
    ) -> ProtoField:
        data_type = struct_field.type
        if isinstance(data_type, ArrayType):
            element = data_type.element
            if isinstance(element, ArrayType):
                raise SchemaError("ARRAY<ARRAY<...>> is not supported by Zerobus", path)
            if isinstance(element, MapType):
                raise SchemaError("ARRAY<MAP<...>> is not supported by Zerobus", path)
            value = self.element_type(name, element, path + ".element", taken)
            return ProtoField(name, number, "repeated", value, None, data_type, struct_field.comment)
        if isinstance(data_type, MapType):
            key = proto_scalar(data_type.key)
            if key is None or key.type not in MAP_KEY_PROTO_TYPES:
                raise SchemaError(
                    f"map key type {data_type.key.type_text} is not supported (keys must be integral, "
                    "boolean or string)",
                    path,
                )
            if isinstance(data_type.value, (MapType, ArrayType)):
                raise SchemaError(
                    f"maps whose values are {data_type.value.type_name} are not supported by Zerobus", path
                )
            value = self.element_type(name, data_type.value, path + ".value", taken)
            map_field = ProtoField(name, number, "map", value, key, data_type, struct_field.comment)
            if map_field.map_entry_name[0].isdigit():
                raise SchemaError(
                    f"protobuf names this map's entry message {map_field.map_entry_name!r}, which protobuf "
                    "runtimes reject (a name cannot start with a digit); rename the column",
                    path,
                )
            return map_field
        label = "required" if top_level and not struct_field.nullable else "optional"
        value = self.element_type(name, data_type, path, taken)
        return ProtoField(name, number, label, value, None, data_type, struct_field.comment)

    def element_type(self, field_name: str, data_type: DataType, path: str, taken: set[str]) -> ProtoType:
        if isinstance(data_type, StructType):
            if not data_type.fields:
                raise SchemaError("empty STRUCT<> cannot be represented", path)
            self.struct_count += 1
            message_name = self.nested_name(field_name, taken, f"Struct{self.struct_count}")
            return ProtoType(message=self.message(message_name, list(data_type.fields), path, False))
        scalar = proto_scalar(data_type)
        assert scalar is not None
        return ProtoType(scalar=scalar)

    @staticmethod
    def nested_name(field_name: str, taken: set[str], fallback: str) -> str:
        """PascalCase of the field; suffixed only where it would clash with a name in scope.

        A field named only with underscores has no PascalCase: like the official tool, the
        message is then named `Struct<n>`, n counting structs in declaration order. So is one
        whose PascalCase starts with a digit (`_0`), which the official tool emits as an
        invalid message name.
        """
        base = pascal_case(field_name)
        if not base or base[0].isdigit():
            base = fallback
        name, suffix = base, 2
        while name in taken:
            name, suffix = f"{base}{suffix}", suffix + 1
        taken.add(name)
        return name


@lru_cache(maxsize=256)
def layout(schema: TableSchema, message_name: str | None = None, structs_before: int = 0) -> ProtoMessage:
    """The proto2 layout of `schema`; the message is named `message_name` or the table's name.

    `structs_before` continues the count that names a struct `Struct<n>` when its field name has
    no PascalCase, for callers laying out a table piece by piece (the official tool's helpers).
    """
    name = message_name or schema.short_name
    if not _PROTO_IDENTIFIER.match(name):
        raise SchemaError(
            f"message name {name!r} is not a valid protobuf identifier; choose one with message_name"
        )
    if not schema.columns:
        raise SchemaError(f"table {schema.name!r} has no columns")
    return _Builder(structs_before).message(name, [c.as_field() for c in schema.columns], "", True)
