"""Model instance -> record bytes in one function generated per model class.

What PROTO streams and ``to_proto_bytes()`` call for every record, so it skips every step the
reference path (dump, wire row, message) takes twice: the generated function reads the
instance ``__dict__`` once, turns each column into a local with the per-column expressions of
`zerobus.codegen.model_fast` (the same wire values, the same give-up rules), descends into
nested struct models inline, calls the message constructor once with keyword arguments (a
struct as a dict) and serializes. Maps of scalars are filled entry by entry after the
constructor, because the constructor takes a dict through the generic, slower mapping update.

Whenever it cannot vouch for a value (see `model_fast`) or the protobuf runtime refuses one,
the function returns what the reference path returns, or lets it raise its precise error.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from zerobus.codegen.model_fast import (
    columns_of,
    element_test,
    expression_names,
    fast_expression,
    nested_model,
)
from zerobus.schema.descriptor import MessageBuilder
from zerobus.schema.ir import ArrayType, DataType, DecimalType, MapType, StructField, StructType
from zerobus.schema.values import to_wire

__all__ = ["ProtoEncoder", "proto_encoder"]

# Instance -> serialized record message.
ProtoEncoder = Callable[[Any], bytes]


@dataclass
class _Source:
    """The generated function's text and the names it refers to, while it is being written."""

    names: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def next_index(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def proto_encoder(
    model: type[BaseModel],
    struct: StructType,
    message_class: Any,
    build: MessageBuilder,
    reference: ProtoEncoder,
) -> ProtoEncoder:
    """The compiled encoder of `model`'s instances; `reference` itself when the class's dump is
    not its ``__dict__`` (custom serializers and the like: see `model_fast.columns_of`).

    `build` (`descriptor.message_builder`) makes the message when a map of structs sits
    somewhere in the row: only it constructs those on every protobuf version.
    """
    pairs = columns_of(model, struct)
    if pairs is None:
        return reference
    needs_builder = _has_map_of_structs(struct)
    source = _Source(names=expression_names())
    source.names.update(cls=message_class, build=build, reference=reference)
    source.add(0, "def encode(instance):")
    source.add(1, "try:")
    source.add(2, "d0 = instance.__dict__")
    arguments: list[tuple[str, str]] = []
    maps: list[tuple[str, StructField]] = []
    for attr, column in pairs:
        if not needs_builder and _fills_entries(column, message_class):
            maps.append((attr, column))
            continue
        local = f"f{source.next_index()}"
        nested = nested_model(model.model_fields[attr].annotation)
        _column_lines(source, 2, "d0", attr, column, nested, local, column.name)
        arguments.append((column.name, local))
    source.add(2, f"m = {_construct(arguments, needs_builder)}")
    for attr, column in maps:
        _map_lines(source, attr, column)
    source.add(2, "return m.SerializeToString()")
    source.add(1, "except Exception:  # the reference path raises the precise error, or agrees")
    source.add(2, "pass")
    source.add(1, "return reference(instance)")
    exec("\n".join(source.lines), source.names)  # names are repr()-quoted: column text never becomes code
    compiled: ProtoEncoder = source.names["encode"]
    return compiled


def _is_plain_name(name: str) -> bool:
    """Usable as written in the generated code (Python would NFKC-fold a non-ASCII identifier)."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


def _construct(arguments: list[tuple[str, str]], needs_builder: bool) -> str:
    """The constructor call: plain names as keyword arguments, any other name through ``**{}``."""
    if needs_builder:
        return "build({" + ", ".join(f"{name!r}: {local}" for name, local in arguments) + "})"
    plain = [f"{name}={local}" for name, local in arguments if _is_plain_name(name)]
    other = [f"{name!r}: {local}" for name, local in arguments if not _is_plain_name(name)]
    if other:
        plain.append("**{" + ", ".join(other) + "}")
    return f"cls({', '.join(plain)})"


def _column_lines(
    source: _Source,
    depth: int,
    row: str,
    attr: str,
    column: StructField,
    nested: type[BaseModel] | None,
    local: str,
    path: str,
) -> None:
    """Lines leaving the wire value of `column` (None when null) in `local`."""
    index = source.next_index()
    source.names[f"conv{index}"] = to_wire(column.type, path)
    source.add(depth, f"v = {row}[{attr!r}]")
    if column.nullable:
        source.add(depth, "if v is None:")
        source.add(depth + 1, f"{local} = None")
    else:
        source.add(depth, "if v is None:")
        source.add(depth + 1, "raise GiveUp")
    inner = (
        columns_of(nested, column.type)
        if nested is not None and isinstance(column.type, StructType)
        else None
    )
    if isinstance(column.type, DecimalType) and column.type.scale > 0:
        _decimal_lines(source, depth, column.type, index, local)
        return
    if nested is None or inner is None:
        expression = fast_expression(column.type, index, path, source.names, trust_text=True)
        source.add(depth, "else:")
        source.add(depth + 1, f"{local} = {expression}")
        return
    source.names[f"struct{index}"] = nested
    source.add(depth, f"elif type(v) is struct{index}:")
    members: list[tuple[str, str]] = []
    nested_row = f"d{index}"
    source.add(depth + 1, f"{nested_row} = v.__dict__")
    for member_attr, member in inner:
        member_local = f"{local}_{source.next_index()}"
        member_nested = nested_model(nested.model_fields[member_attr].annotation)
        _column_lines(
            source,
            depth + 1,
            nested_row,
            member_attr,
            member,
            member_nested,
            member_local,
            f"{path}.{member.name}",
        )
        members.append((member.name, member_local))
    source.add(depth + 1, f"{local} = {{" + ", ".join(f"{name!r}: {m}" for name, m in members) + "}")
    source.add(depth, "else:")
    source.add(depth + 1, f"{local} = conv{index}(v)")


def _decimal_lines(source: _Source, depth: int, decimal_type: DecimalType, index: int, local: str) -> None:
    """A Decimal whose text is already plain, with exactly `scale` fractional digits, and fits the
    precision is its own wire text; anything else (rescaling, exponent notation, NaN, too many
    digits) goes to the column's converter."""
    scale, whole_digits = decimal_type.scale, decimal_type.precision - decimal_type.scale
    # Digits before the point (a sign aside): at most the precision's share, or a lone zero.
    whole = (
        f"dot - (t[0] == '-') <= {whole_digits}"
        if whole_digits
        else "dot - (t[0] == '-') == 1 and t[dot - 1] == '0'"
    )
    source.add(depth, "elif type(v) is Decimal:")
    source.add(depth + 1, "t = str(v)")
    source.add(depth + 1, "dot = t.find('.')")
    source.add(
        depth + 1,
        f"{local} = t if dot > 0 and len(t) - dot == {scale + 1} and 'E' not in t and {whole} else conv{index}(v)",
    )
    source.add(depth, "else:")
    source.add(depth + 1, f"{local} = conv{index}(v)")


def _fills_entries(column: StructField, message_class: Any) -> bool:
    """A map of scalars whose values are already wire values, reachable as an attribute."""
    data_type = column.type
    if not isinstance(data_type, MapType) or not _is_plain_name(column.name):
        return False
    if hasattr(message_class, column.name):  # a method of the message would shadow the field
        return False
    return element_test(data_type.key, "k") is not None and element_test(data_type.value, "x") is not None


def _map_lines(source: _Source, attr: str, column: StructField) -> None:
    """Lines copying a dict of wire values into the map field of ``m``, entry by entry."""
    assert isinstance(column.type, MapType)
    key_test, value_test = element_test(column.type.key, "k"), element_test(column.type.value, "x")
    source.add(2, f"v = d0[{attr!r}]")
    source.add(2, "if type(v) is dict:")
    source.add(3, f"target = m.{column.name}")
    source.add(3, "for k, x in v.items():")
    source.add(4, f"if not ({key_test} and {value_test}):")
    source.add(5, "raise GiveUp")
    source.add(4, "target[k] = x")
    source.add(2, "elif v is not None:" if column.nullable else "else:")
    source.add(3, "raise GiveUp")


def _has_map_of_structs(data_type: DataType) -> bool:
    if isinstance(data_type, MapType):
        return isinstance(data_type.value, StructType) or _has_map_of_structs(data_type.value)
    if isinstance(data_type, ArrayType):
        return _has_map_of_structs(data_type.element)
    if isinstance(data_type, StructType):
        return any(_has_map_of_structs(member.type) for member in data_type.fields)
    return False
