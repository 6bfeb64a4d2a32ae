"""Internal: Model instance -> record bytes in one function generated per model class.

What PROTO streams and ``to_proto_bytes()`` call for every record. No message object is built:
the generated function reads the instance ``__dict__``, turns each column into its wire value
with the per-column expressions of `zerobus.codegen.model_fast` (the same wire values, the same
give-up rules) and writes the protobuf wire format itself, with the tags and small varints
precomputed (`zerobus.codegen.wire_format`). Nested struct models, arrays and maps are written
inline, in field-number order, exactly as the protobuf runtime serializes the message (map
entries in the dict's order).

Whenever it cannot vouch for a value (see `model_fast`), the function returns what the
reference path returns, or lets it raise its precise error.
"""

from __future__ import annotations

import logging
import struct
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from pydantic import BaseModel

from zerobus.codegen import wire_format
from zerobus.codegen.model_fast import columns_of, expression_names, nested_model
from zerobus.codegen.model_proto_scalars import (
    WIRE_TYPES,
    Source,
    is_text,
    joined,
    length_header,
    scalar_slots,
    text_entry_lines,
)
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    MapType,
    Primitive,
    PrimitiveType,
    StructType,
)

__all__ = ["ProtoEncoder", "proto_encoder"]

# Instance -> serialized record message.
ProtoEncoder = Callable[[Any], bytes]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Column:
    attr: str
    data_type: DataType
    nullable: bool
    descriptor: Any  # the FieldDescriptor
    annotation: Any
    path: str


def proto_encoder(
    model: type[BaseModel],
    struct: StructType,
    message_class: Any,
    reference: ProtoEncoder,
    other_types: ProtoEncoder | None = None,
) -> ProtoEncoder:
    """The compiled encoder of `model`'s instances; `reference` itself when the class's dump is
    not its ``__dict__`` (custom serializers and the like: see `model_fast.columns_of`) or the
    message has a shape the writer does not know (packed fields, other field types).

    With `other_types`, the function first checks the instance's exact class and hands any other
    (a subclass) to it: what a function installed as a method of `model` needs.
    """
    columns = _columns(model, struct, message_class.DESCRIPTOR, "")
    if columns is None:
        return reference
    source = Source(names=expression_names())
    source.names.update(reference=reference, varint=wire_format.varint)
    source.names.update(F=wire_format.FINAL, C=wire_format.CONTINUED)
    source.names.update(utf8=wire_format.utf8, as_bytes=wire_format.as_bytes, as_bool=wire_format.as_bool)
    source.add(0, "def encode(instance):")
    if other_types is not None:
        source.names.update(model=model, other_types=other_types)
        source.add(1, "if type(instance) is not model:")
        source.add(2, "return other_types(instance)")
    source.add(1, "try:")
    slots = _message_lines(source, 2, "instance", columns)
    source.add(2, f"return {joined(slots)}")
    source.add(1, "except Exception:  # the reference path raises the precise error, or agrees")
    source.add(2, "pass")
    source.add(1, "return reference(instance)")
    try:
        exec("\n".join(source.lines), source.names)  # names are repr()-quoted: column text never becomes code
    except (SyntaxError, RecursionError, MemoryError):  # nesting beyond what Python compiles (20 loops)
        _logger.debug("%s: nested too deeply to compile; it takes the reference path", model.__qualname__)
        return reference
    compiled: ProtoEncoder = source.names["encode"]
    return compiled


def _columns(
    model: type[BaseModel], struct: StructType, descriptor: Any, prefix: str
) -> list[_Column] | None:
    """The columns of `model` with their proto fields, in field-number order; None when unknown."""
    pairs = columns_of(model, struct)
    if pairs is None:
        return None
    columns = []
    for attr, column in pairs:
        proto_field = descriptor.fields_by_name.get(column.name)
        if proto_field is None or not _known_shape(proto_field):
            return None
        annotation = model.model_fields[attr].annotation
        columns.append(
            _Column(attr, column.type, column.nullable, proto_field, annotation, prefix + column.name)
        )
    return sorted(columns, key=lambda c: int(c.descriptor.number))


def _known_shape(proto_field: Any) -> bool:
    if proto_field.type not in WIRE_TYPES or getattr(proto_field, "is_packed", False):
        return False
    nested = proto_field.message_type
    return nested is None or all(_known_shape(member) for member in nested.fields)


# Slots: the names (locals, or constants when a slot never changes) whose bytes, joined in
# order, are the encoded fields; a null column leaves all of its slots empty.


def _message_lines(source: Source, depth: int, instance: str, columns: list[_Column]) -> list[str]:
    """Lines filling the slots of each column of `instance` (a model); the slots, in order."""
    row = f"d{source.next_index()}"
    source.add(depth, f"{row} = {instance}.__dict__")
    slots: list[str] = []
    for column in columns:
        source.add(depth, f"v = {row}[{column.attr!r}]")
        source.add(depth, "if v is None:")
        if not column.nullable:
            source.add(depth + 1, "raise GiveUp")
            slots += _field_slots(source, depth, column, fixed_tag=True)
            continue
        hole = len(source.lines)
        source.add(depth, "else:")
        mine = _field_slots(source, depth + 1, column, fixed_tag=False)
        source.lines.insert(hole, "    " * (depth + 1) + " = ".join(mine) + " = b''")
        slots += mine
    return slots


def _field_slots(source: Source, depth: int, column: _Column, fixed_tag: bool) -> list[str]:
    """Lines writing the column's non-null value ``v`` (every element when repeated)."""
    data_type, proto_field, path = column.data_type, column.descriptor, column.path
    if isinstance(data_type, (ArrayType, MapType)):
        parts = f"parts{source.next_index()}"
        source.add(depth, f"if type(v) is not {'list' if isinstance(data_type, ArrayType) else 'dict'}:")
        source.add(depth + 1, "raise GiveUp")
        source.add(depth, f"{parts} = []")
        if isinstance(data_type, ArrayType):
            _array_lines(source, depth, proto_field, data_type, column.annotation, parts, path)
        else:
            _map_lines(source, depth, proto_field, data_type, column.annotation, parts, path)
        source.add(depth, f"{parts} = b''.join({parts})")
        return [parts]
    return _value_slots(source, depth, proto_field, data_type, column.annotation, path, fixed_tag)


def _array_lines(
    source: Source,
    depth: int,
    proto_field: Any,
    data_type: ArrayType,
    annotation: Any,
    parts: str,
    path: str,
) -> None:
    """A list, one tagged element after the other (proto2 repeated fields are not packed)."""
    element = f"x{source.next_index()}"
    arguments = _type_arguments(annotation)
    source.add(depth, f"for {element} in v:")
    source.add(depth + 1, f"if {element} is None:")
    source.add(depth + 2, "raise GiveUp")
    source.add(depth + 1, f"v = {element}")
    element_annotation = arguments[0] if len(arguments) == 1 else None
    slots = _value_slots(
        source, depth + 1, proto_field, data_type.element, element_annotation, f"{path}[]", True
    )
    source.add(depth + 1, f"{parts} += ({', '.join(slots)},)")


def _map_lines(
    source: Source, depth: int, proto_field: Any, data_type: MapType, annotation: Any, parts: str, path: str
) -> None:
    """A dict, one entry message (key = 1, value = 2, both always written) per item, in dict order."""
    index = source.next_index()
    entry = proto_field.message_type
    arguments = _type_arguments(annotation)
    key_annotation, value_annotation = arguments if len(arguments) == 2 else (None, None)
    source.add(depth, f"for k{index}, x{index} in v.items():")
    if is_text(data_type.key) and is_text(data_type.value):
        text_entry_lines(source, depth + 1, proto_field, index, parts)
    source.add(depth + 1, f"if k{index} is None or x{index} is None:")
    source.add(depth + 2, "raise GiveUp")
    source.add(depth + 1, f"v = k{index}")
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    slots = _value_slots(source, depth + 1, key_field, data_type.key, key_annotation, f"{path}{{}}", True)
    source.add(depth + 1, f"v = x{index}")
    slots += _value_slots(
        source, depth + 1, value_field, data_type.value, value_annotation, f"{path}[]", True
    )
    source.add(depth + 1, f"e{index} = {joined(slots)}")
    header = length_header(source, depth + 1, proto_field, f"e{index}")
    source.add(depth + 1, f"{parts} += ({header}, e{index})")


def _value_slots(
    source: Source,
    depth: int,
    proto_field: Any,
    data_type: DataType,
    annotation: Any,
    path: str,
    fixed_tag: bool,
) -> list[str]:
    """Lines writing one tagged value of the non-null ``v``; its slots."""
    if isinstance(data_type, StructType):
        return _struct_slots(source, depth, proto_field, data_type, annotation, path)
    return scalar_slots(source, depth, proto_field, data_type, path, fixed_tag)


def _struct_slots(
    source: Source, depth: int, proto_field: Any, data_type: StructType, annotation: Any, path: str
) -> list[str]:
    """An instance of the field's own struct model, written inline; anything else gives up."""
    nested = nested_model(annotation)
    columns = None if nested is None else _columns(nested, data_type, proto_field.message_type, path + ".")
    if nested is None or columns is None:
        source.add(depth, "raise GiveUp")
        return []
    struct_name = source.constant("struct", nested)
    source.add(depth, f"if type(v) is not {struct_name}:")
    source.add(depth + 1, "raise GiveUp")
    body = f"m{source.next_index()}"
    header = f"l{source.next_index()}"
    if _all_doubles(columns):
        _doubles_lines(source, depth, proto_field, columns, header, body)
        depth += 1
    slots = _message_lines(source, depth, "v", columns)
    source.add(depth, f"{body} = {joined(slots)}")
    source.add(depth, f"{header} = {length_header(source, depth, proto_field, body)}")
    return [header, body]


def _all_doubles(columns: list[_Column]) -> bool:
    return bool(columns) and all(
        isinstance(c.data_type, PrimitiveType)
        and c.data_type.primitive is Primitive.DOUBLE
        and c.descriptor.type == FieldDescriptor.TYPE_DOUBLE
        for c in columns
    )


def _doubles_lines(
    source: Source, depth: int, proto_field: Any, columns: list[_Column], header: str, body: str
) -> None:
    """A struct of DOUBLE members (a point, say) with every member a float: one pack call and a
    constant header; the lines after the ``else:`` written here handle any other instance."""
    keys = [wire_format.tag(c.descriptor.number, wire_format.WireType.FIXED64) for c in columns]
    layout = struct.Struct("<" + "".join(f"{len(key)}sd" for key in keys))
    outer = wire_format.tag(proto_field.number, wire_format.WireType.LENGTH_DELIMITED)
    constant_header = source.constant("h", outer + wire_format.varint(layout.size))
    pack = source.constant("pack", layout.pack)
    row = f"d{source.next_index()}"
    source.add(depth, f"{row} = v.__dict__")
    members = []
    for column in columns:
        member = f"a{source.next_index()}"
        source.add(depth, f"{member} = {row}[{column.attr!r}]")
        members.append(member)
    source.add(depth, "if " + " and ".join(f"type({m}) is float" for m in members) + ":")
    arguments = ", ".join(f"{source.constant('t', key)}, {m}" for key, m in zip(keys, members, strict=True))
    source.add(depth + 1, f"{header}, {body} = {constant_header}, {pack}({arguments})")
    source.add(depth, "else:")


def _type_arguments(annotation: Any) -> tuple[Any, ...]:
    """The element (list) or key and value (dict) annotations of ``list[X]`` / ``dict[K, V] | None``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            return ()
        annotation = members[0]
    return typing.get_args(annotation)
