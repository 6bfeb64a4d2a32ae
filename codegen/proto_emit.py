"""Internal: Emit the proto2 text of a table, walking `proto_layout.layout()`.

The text is byte-for-byte what the official ``generate_proto`` tool writes for every schema it
supports: tab indentation, a blank line after each nested message, and its indentation of
messages nested through an ARRAY or MAP (one tab deeper than a STRUCT field's). The view
objects below carry every name, label and indent, so ``templates/proto2.proto.j2`` only lays
them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from zerobus.codegen.render import render
from zerobus.schema.ir import TableSchema
from zerobus.schema.proto_layout import ProtoField, ProtoMessage, layout

__all__ = ["ProtoMemberView", "ProtoMessageView", "proto_text"]

INDENT = "\t"


@dataclass(frozen=True)
class ProtoMessageView:
    name: str
    indent: str  # before `message Name {` and its closing brace
    field_indent: str  # before each field declaration
    members: tuple[ProtoMemberView, ...]


@dataclass(frozen=True)
class ProtoMemberView:
    declaration: str  # e.g. `optional int32 temp = 2;` or `map<string, int64> tags = 3;`
    nested: ProtoMessageView | None  # the message declared just before this field


def _declaration(field: ProtoField) -> str:
    if field.label == "map":
        return f"{field.type_text} {field.name} = {field.number};"
    return f"{field.label} {field.type_text} {field.name} = {field.number};"


def message_view(message: ProtoMessage, depth: int = 0) -> ProtoMessageView:
    """`depth` is the message's indent; its fields sit one level deeper."""
    members = []
    for field in message.fields:
        nested = None
        if field.value.message is not None:
            # The official tool indents a message nested through a container one level deeper.
            extra = 1 if field.label in ("repeated", "map") else 0
            nested = message_view(field.value.message, depth + 1 + extra)
        members.append(ProtoMemberView(_declaration(field), nested))
    return ProtoMessageView(message.name, INDENT * depth, INDENT * (depth + 1), tuple(members))


def proto_text(schema: TableSchema, message_name: str | None = None) -> str:
    """The .proto file (proto2) of the table's record message; named after the table by default."""
    return render("proto2.proto.j2", message=message_view(layout(schema, message_name)))
