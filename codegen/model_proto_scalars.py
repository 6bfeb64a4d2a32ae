"""Internal: The scalar lines of the generated model encoders (`zerobus.codegen.model_proto`).

Each function here writes the Python lines that turn the value in ``v`` into its protobuf field
(tag, then varint, fixed-width number or length and bytes) and returns the *slots*: the names
whose bytes, joined in order, are that field. Separate slots cost less than concatenating, so a
field may take several (a timestamp takes five); a null column leaves all of its slots empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf.descriptor import FieldDescriptor

from zerobus.codegen import wire_format
from zerobus.codegen.model_fast import fast_expression
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import ArrayType, DataType, DecimalType, MapType, PrimitiveType, StringType
from zerobus.schema.python_to_wire import to_wire

__all__ = ["WIRE_TYPES", "Source", "is_text", "joined", "length_header", "scalar_slots", "text_entry_lines"]

WIRE_TYPES = {
    FieldDescriptor.TYPE_DOUBLE: wire_format.WireType.FIXED64,
    FieldDescriptor.TYPE_FLOAT: wire_format.WireType.FIXED32,
    FieldDescriptor.TYPE_INT32: wire_format.WireType.VARINT,
    FieldDescriptor.TYPE_INT64: wire_format.WireType.VARINT,
    FieldDescriptor.TYPE_BOOL: wire_format.WireType.VARINT,
    FieldDescriptor.TYPE_STRING: wire_format.WireType.LENGTH_DELIMITED,
    FieldDescriptor.TYPE_BYTES: wire_format.WireType.LENGTH_DELIMITED,
    FieldDescriptor.TYPE_MESSAGE: wire_format.WireType.LENGTH_DELIMITED,
}


@dataclass
class Source:
    """The generated function's text and the names it refers to, while it is being written."""

    names: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    counter: int = 0

    def next_index(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def constant(self, prefix: str, value: Any) -> str:
        """A fresh global name of the generated code bound to `value`."""
        name = f"{prefix}{self.next_index()}"
        self.names[name] = value
        return name


def joined(slots: list[str]) -> str:
    return f"b''.join(({', '.join(slots)},))" if slots else "b''"


def is_text(data_type: DataType) -> bool:
    return isinstance(data_type, StringType) and data_type.length is None


def text_entry_lines(source: Source, depth: int, proto_field: Any, index: int, parts: str) -> None:
    """The common map entry, text to text where all lengths fit one byte, in one step; any other
    entry falls through to the general lines that follow."""
    entry = wire_format.length_headers(
        wire_format.tag(proto_field.number, wire_format.WireType.LENGTH_DELIMITED)
    )
    key = wire_format.length_headers(wire_format.tag(1, wire_format.WireType.LENGTH_DELIMITED))
    value = wire_format.length_headers(wire_format.tag(2, wire_format.WireType.LENGTH_DELIMITED))
    entry_name, key_name, value_name = (
        source.constant(p, t) for p, t in (("h", entry), ("h", key), ("h", value))
    )
    k, x = f"k{index}", f"x{index}"
    source.add(depth, f"if type({k}) is str and type({x}) is str:")
    source.add(depth + 1, f"kb{index} = {k}.encode()")
    source.add(depth + 1, f"xb{index} = {x}.encode()")
    source.add(depth + 1, f"nk{index} = len(kb{index})")
    source.add(depth + 1, f"nx{index} = len(xb{index})")
    source.add(
        depth + 1, f"if nk{index} + nx{index} < 124:  # the entry's length (both + 4) fits one byte too"
    )
    source.add(
        depth + 2,
        f"{parts} += ({entry_name}[nk{index} + nx{index} + 4], {key_name}[nk{index}], kb{index}, "
        f"{value_name}[nx{index}], xb{index})",
    )
    source.add(depth + 2, "continue")


def scalar_slots(
    source: Source, depth: int, proto_field: Any, data_type: DataType, path: str, fixed_tag: bool
) -> list[str]:
    """Lines writing one tagged scalar of the non-null ``v`` (`fixed_tag`: never null, so a slot
    may be the tag constant itself); its slots."""
    index = source.next_index()
    if isinstance(data_type, (ArrayType, MapType)) or proto_field.type == FieldDescriptor.TYPE_MESSAGE:
        source.add(depth, "raise GiveUp")  # an array or map inside an array: no proto2 shape holds it
        return []
    key = wire_format.tag(proto_field.number, WIRE_TYPES[proto_field.type])
    source.names[f"conv{index}"] = to_wire(data_type, path)
    tag_name = source.constant("t", key)
    if proto_field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES):
        _text_lines(source, depth, data_type, index, f"b{index}")
        return [length_header(source, depth, proto_field, f"b{index}"), f"b{index}"]
    if proto_field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        return _integer_slots(source, depth, proto_field, data_type, index, tag_name, fixed_tag)
    if proto_field.type == FieldDescriptor.TYPE_BOOL:
        yes, no = source.constant("yes", key + b"\x01"), source.constant("no", key + b"\x00")
        source.add(
            depth,
            f"p{index} = {yes} if v is True else {no} if v is False else {tag_name} + as_bool(conv{index}(v))",
        )
        return [f"p{index}"]
    double = proto_field.type == FieldDescriptor.TYPE_DOUBLE
    pack = source.constant("pack", wire_format.pack_double if double else wire_format.pack_float)
    expression = fast_expression(data_type, index, path, source.names, trust_text=True)
    if fixed_tag:
        source.add(depth, f"p{index} = {pack}({expression})")
        return [tag_name, f"p{index}"]
    source.add(depth, f"g{index}, p{index} = {tag_name}, {pack}({expression})")
    return [f"g{index}", f"p{index}"]


def _text_lines(source: Source, depth: int, data_type: DataType, index: int, target: str) -> None:
    """Lines leaving the bytes of a string or bytes field's value ``v`` in `target`."""
    if isinstance(data_type, StringType) and data_type.length is None:
        source.add(depth, f"{target} = v.encode() if type(v) is str else utf8(conv{index}(v))")
        return
    if isinstance(data_type, PrimitiveType) and DELTA_TYPES[data_type.primitive].kind is ValueKind.BINARY:
        source.add(depth, f"{target} = v if type(v) is bytes else as_bytes(conv{index}(v))")
        return
    if isinstance(data_type, DecimalType) and data_type.scale > 0:
        _decimal_lines(source, depth, data_type, index, f"w{index}")
    else:
        expression = fast_expression(data_type, index, "", source.names, trust_text=True)
        source.add(depth, f"w{index} = {expression}")
    source.add(depth, f"{target} = w{index}.encode() if type(w{index}) is str else utf8(w{index})")


def _decimal_lines(source: Source, depth: int, decimal_type: DecimalType, index: int, local: str) -> None:
    """A Decimal whose text is already plain, with exactly `scale` fractional digits, and fits the
    precision is its own wire text; anything else (rescaling, exponent notation, NaN, too many
    digits) goes to the column's converter.

    ``str(Decimal)`` writes plain digits, a lone ``0`` or no leading zero before the point, and
    an ``E`` whenever it uses exponent notation: so a point `scale` places from the end, no ``E``
    and a short enough text (a sign aside) say all of it."""
    scale, precision = decimal_type.scale, decimal_type.precision
    # Digits before the point: at most precision - scale, or a lone zero when that is none.
    whole = (
        f"len(t) - (t[0] == '-') <= {precision + 1}"
        if precision > scale
        else f"len(t) - (t[0] == '-') == {scale + 2} and t[{-(scale + 2)}] == '0'"
    )
    source.add(depth, "if type(v) is Decimal:")
    source.add(depth + 1, "t = str(v)")
    source.add(
        depth + 1,
        f"{local} = t if len(t) > {scale + 1} and t[{-(scale + 1)}] == '.' and 'E' not in t and {whole} "
        f"else conv{index}(v)",
    )
    source.add(depth, "else:")
    source.add(depth + 1, f"{local} = conv{index}(v)")


def _integer_slots(
    source: Source,
    depth: int,
    proto_field: Any,
    data_type: DataType,
    index: int,
    tag_name: str,
    fixed_tag: bool,
) -> list[str]:
    """The wire integer (days, microseconds, the number; always an int from the converters) as a
    varint: small ones from a table, the common lengths inline, the rest (negative, huge) through
    the checked writer."""
    key = source.names[tag_name]
    checked = wire_format.varint32 if proto_field.type == FieldDescriptor.TYPE_INT32 else wire_format.varint64
    writer = source.constant("varint", checked)
    w, target = f"w{index}", f"p{index}"
    expression = fast_expression(data_type, index, "", source.names, trust_text=True)
    kind = DELTA_TYPES[data_type.primitive].kind if isinstance(data_type, PrimitiveType) else None
    if kind is ValueKind.TIMESTAMP:
        return _timestamp_slots(source, depth, index, expression, tag_name, writer, fixed_tag)
    if kind is ValueKind.INTEGER:
        # The commonest integers take one look-up, before any other test.
        small = source.constant("small", wire_format.small_integers(key))
        source.add(depth, "if type(v) is int and -128 <= v < 128:")
        source.add(depth + 1, f"{target} = {small}[v]")
        source.add(depth, "else:")
        depth += 1
    source.add(depth, f"{w} = {expression}")
    three_bytes = (f"16384 <= {w} < 268435456", f"{tag_name} + C[{w} & 16383] + F[{w} >> 14]")
    tiers = [(f"128 <= {w} < 16384", f"{tag_name} + F[{w}]"), three_bytes]
    if kind is ValueKind.DATE:  # today's dates take three bytes
        tiers = [three_bytes, (f"0 <= {w} < 16384", f"{tag_name} + F[{w}]")]
    for number, (condition, value) in enumerate(tiers):
        source.add(depth, f"{'elif' if number else 'if'} {condition}:")
        source.add(depth + 1, f"{target} = {value}")
    source.add(depth, "else:")
    source.add(depth + 1, f"{target} = {tag_name} + {writer}({w})")
    return [target]


def _timestamp_slots(
    source: Source, depth: int, index: int, expression: str, tag_name: str, writer: str, fixed_tag: bool
) -> list[str]:
    """Microseconds as a varint: every instant from 1970-02-21 to 4253 takes four 14-bit groups,
    each its own slot (no concatenation); any other goes through the checked writer."""
    w = f"w{index}"
    source.add(depth, f"{w} = {expression}")
    groups = f"C[{w} & 16383], C[{w} >> 14 & 16383], C[{w} >> 28 & 16383], F[{w} >> 42]"
    slots = [f"q{index}_{n}" for n in range(4)]
    head = [] if fixed_tag else [f"g{index}"]
    values = [] if fixed_tag else [tag_name]
    source.add(depth, f"if {1 << 42} <= {w} < {1 << 56}:")
    source.add(depth + 1, f"{', '.join(head + slots)} = {', '.join([*values, groups])}")
    source.add(depth, "else:")
    rest = ", ".join([*values, f"{writer}({w})", "b''", "b''", "b''"])
    source.add(depth + 1, f"{', '.join(head + slots)} = {rest}")
    return [tag_name if fixed_tag else f"g{index}", *slots]


def length_header(source: Source, depth: int, proto_field: Any, body: str) -> str:
    """Lines leaving the field's tag and the length of the bytes in `body` in a local; its name."""
    key = wire_format.tag(proto_field.number, wire_format.WireType.LENGTH_DELIMITED)
    headers = source.constant("h", wire_format.length_headers(key))
    tag_name = source.constant("t", key)
    index = source.next_index()
    size, header = f"n{index}", f"l{index}"
    source.add(depth, f"{size} = len({body})")
    source.add(depth, f"{header} = {headers}[{size}] if {size} < 128 else {tag_name} + varint({size})")
    return header
