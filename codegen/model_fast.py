"""Internal: Model -> wire row, compiled once per model class; the per-column pieces `model_proto` reuses.

The reference conversion of a model (``model_dump(by_alias=True)``, then the section 7
converters of `zerobus.schema.python_to_wire` on every field, then the message constructor) walks
every value twice through generic code. Here each model class gets one generated function
that reads the instance ``__dict__`` and, per field, either passes the value on (when its
exact type is already a wire value: a ``str``, an in-range ``int``...), applies the
arithmetic for dates and timestamps inline, recurses into a nested struct model, or calls
the very converter the reference path would call.

A value the fast function is not sure of (mutated after validation to another type, a null
in a NOT NULL field, a text the protobuf runtime refuses) makes it give up and the reference
path runs instead, so the output is always the reference output, or the reference error.
Classes whose dump is not their ``__dict__`` (custom serializers, computed or excluded
fields, fields that are not the table's columns) always take the reference path.
"""

from __future__ import annotations

import datetime as dt
import decimal
import types
import typing
import weakref
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from zerobus.codegen.wire_format import GiveUp
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.epoch import EPOCH, EPOCH_DATE, EPOCH_NAIVE
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
)
from zerobus.schema.python_to_wire import to_wire
from zerobus.schema.typemap import INT_RANGES

__all__ = [
    "FieldsConverter",
    "GiveUp",
    "columns_of",
    "element_test",
    "expression_names",
    "fast_expression",
    "fields_converter",
    "nested_model",
    "wire_converter",
]

# An instance ``__dict__`` -> wire dict (nulls left out); raises `GiveUp` when unsure.
FieldsConverter = Callable[[dict[str, Any]], dict[str, Any]]

# Exact Python types that are already the wire value of a column of this primitive.
_EXACT: dict[Primitive, type] = {
    primitive: row.exact_python_type
    for primitive, row in DELTA_TYPES.items()
    if row.exact_python_type is not None and row.kind is not ValueKind.INTEGER
}


_COMPILED: weakref.WeakKeyDictionary[type, dict[bool, FieldsConverter | None]] = weakref.WeakKeyDictionary()


def fields_converter(model: type[BaseModel], struct: StructType, trust_text: bool) -> FieldsConverter | None:
    """The compiled converter of `model`'s instances, or None when it must take the reference path.

    ``trust_text``: pass ``str`` values of unbounded STRING columns as they are, because the
    protobuf runtime refuses the text it cannot encode (lone surrogates) and the caller then
    falls back; without it (plain wire rows) the text is checked here.
    """
    per_mode = _COMPILED.get(model)
    if per_mode is None:
        per_mode = _COMPILED[model] = {}
    if trust_text not in per_mode:
        per_mode[trust_text] = _compile(model, struct, "", trust_text)
    return per_mode[trust_text]


def columns_of(model: type[BaseModel], struct: StructType) -> list[tuple[str, StructField]] | None:
    """(attribute, column) pairs when the model's dump is exactly its ``__dict__`` by column name."""
    decorators = model.__pydantic_decorators__
    if decorators.field_serializers or decorators.model_serializers or model.model_computed_fields:
        return None
    by_name = {field.name: field for field in struct.fields}
    pairs = []
    for attr, info in model.model_fields.items():
        column = info.serialization_alias or info.alias or attr
        field = by_name.pop(column, None)
        if field is None or info.exclude:
            return None
        pairs.append((attr, field))
    return None if by_name else pairs


def _compile(
    model: type[BaseModel], struct: StructType, prefix: str, trust_text: bool
) -> FieldsConverter | None:
    pairs = columns_of(model, struct)
    if pairs is None:
        return None
    names = expression_names()
    lines = ["def convert(d):", "    out = {}"]
    for index, (attr, field) in enumerate(pairs):
        path = prefix + field.name
        names[f"conv{index}"] = to_wire(field.type, path)
        nested = nested_model(model.model_fields[attr].annotation)
        if nested is not None and isinstance(field.type, StructType):
            expression = _nested_expression(nested, field.type, index, path, names, trust_text)
        else:
            expression = fast_expression(field.type, index, path, names, trust_text)
        lines.append(f"    v = d[{attr!r}]")
        lines.append("    if v is not None:")
        lines.append(f"        out[{field.name!r}] = {expression}")
        if not field.nullable:
            lines.append("    else:")
            lines.append("        raise GiveUp")
    lines.append("    return out")
    exec("\n".join(lines), names)  # names are repr()-quoted: column text never becomes code
    compiled: FieldsConverter = names["convert"]
    return compiled


def expression_names() -> dict[str, Any]:
    """The names the text of `fast_expression` refers to, for the namespace it is compiled in."""
    names: dict[str, Any] = {"GiveUp": GiveUp, "EPOCH": EPOCH, "EPOCH_NAIVE": EPOCH_NAIVE}
    names.update(EPOCH_ORDINAL=EPOCH_DATE.toordinal(), datetime=dt.datetime, date=dt.date)
    names["Decimal"] = decimal.Decimal
    return names


def fast_expression(
    data_type: DataType, index: int, path: str, names: dict[str, Any], trust_text: bool
) -> str:
    """Python text turning ``v`` into its wire value; the column's converter when nothing is faster."""
    slow = f"conv{index}(v)"
    if isinstance(data_type, StringType):
        if data_type.length is not None:
            return slow
        # ASCII text (an O(1) flag) holds no lone surrogates: only other text needs the check.
        return (
            f"v if type(v) is str else {slow}"
            if trust_text
            else f"v if type(v) is str and v.isascii() else {slow}"
        )
    if trust_text and isinstance(data_type, (ArrayType, MapType)):
        return _container_expression(data_type, index, names) or slow
    if isinstance(data_type, DecimalType):
        names[f"decimal{index}"] = _canonical_decimal(data_type, names[f"conv{index}"])
        return f"decimal{index}(v) if type(v) is Decimal else {slow}"
    if not isinstance(data_type, PrimitiveType):
        return slow
    primitive = data_type.primitive
    row = DELTA_TYPES[primitive]
    if row.kind is ValueKind.INTEGER:
        low, high = INT_RANGES[primitive]
        return f"v if type(v) is int and {low} <= v <= {high} else {slow}"
    exact = _EXACT.get(primitive)
    if exact is not None:
        names[f"exact{index}"] = exact
        return f"v if type(v) is exact{index} else {slow}"
    if row.kind is ValueKind.DATE:
        return f"v.toordinal() - EPOCH_ORDINAL if type(v) is date else {slow}"
    if row.kind is ValueKind.TIMESTAMP:
        # Subtracting the aware (naive) epoch fails on a naive (aware) datetime, and on an aware one
        # whose utcoffset() is None: the caller then falls back, so no tzinfo test is needed here.
        epoch = "EPOCH" if row.timezone_aware else "EPOCH_NAIVE"
        return f"{_micros(f'v - {epoch}')} if type(v) is datetime else {slow}"
    return slow


def _micros(difference: str) -> str:
    """Python text: the whole microseconds of a timedelta, by its fields (cheaper than dividing by
    a one-microsecond timedelta)."""
    return f"((td := {difference}).days * 86400000000 + td.seconds * 1000000 + td.microseconds)"


def _canonical_decimal(decimal_type: DecimalType, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A Decimal whose text already has exactly `scale` fractional digits and fits is its own wire
    text; any other (rescaling, exponent notation, too many digits, NaN) takes the converter."""
    scale, whole_digits = decimal_type.scale, decimal_type.precision - decimal_type.scale

    def wire_text(value: decimal.Decimal) -> Any:
        text = str(value)
        if scale:
            dot = text.find(".")
            if dot < 0 or len(text) - dot - 1 != scale or not text[dot + 1 :].isdigit():
                return convert(value)
            whole = text[:dot].lstrip("-")
        else:
            whole = text.lstrip("-")
        if whole.isdigit() and (len(whole) <= whole_digits or whole == "0"):
            return text
        return convert(value)

    return wire_text


def element_test(data_type: DataType, name: str) -> str | None:
    """Python text true when ``name`` is already a valid wire value of `data_type` (text trusted)."""
    if isinstance(data_type, StringType):
        return f"type({name}) is str" if data_type.length is None else None
    if not isinstance(data_type, PrimitiveType):
        return None
    primitive = data_type.primitive
    if DELTA_TYPES[primitive].kind is ValueKind.INTEGER:
        low, high = INT_RANGES[primitive]
        return f"type({name}) is int and {low} <= {name} <= {high}"
    exact = _EXACT.get(primitive)
    return f"type({name}) is {exact.__name__}" if exact is not None else None


def _container_expression(data_type: ArrayType | MapType, index: int, names: dict[str, Any]) -> str | None:
    """A list or dict of values already in wire form goes to the message as it is (after one look)."""
    if isinstance(data_type, ArrayType):
        test = element_test(data_type.element, "x")
        head, loop = "list", "for x in v"
    else:
        key_test, value_test = element_test(data_type.key, "k"), element_test(data_type.value, "x")
        test = None if key_test is None or value_test is None else f"{key_test} and {value_test}"
        head, loop = "dict", "for k, x in v.items()"
    if test is None:
        return None
    source = (
        f"def ready{index}(v):\n    if type(v) is not {head}:\n        return False\n"
        f"    {loop}:\n        if not ({test}):\n            return False\n    return True"
    )
    exec(source, names)  # text built here from type tests only
    return f"v if ready{index}(v) else conv{index}(v)"


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model class a field holds (``Struct`` or ``Struct | None``), if any."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    else:
        members = [annotation]
    if len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel):
        return members[0]
    return None


def _nested_expression(
    nested: type[BaseModel],
    struct: StructType,
    index: int,
    path: str,
    names: dict[str, Any],
    trust_text: bool,
) -> str:
    """An instance of the field's own struct model goes through that model's compiled converter."""
    convert = _compile(nested, struct, path + ".", trust_text)
    if convert is None:
        return f"conv{index}(v)"
    names[f"struct{index}"], names[f"nested{index}"] = nested, convert
    return f"nested{index}(v.__dict__) if type(v) is struct{index} else conv{index}(v)"


def wire_converter(
    model: type[BaseModel], struct: StructType, reference: Callable[[Any], dict[str, Any]]
) -> Callable[[Any], dict[str, Any]]:
    """Instance -> wire row through the compiled converter; `reference` whenever it gives up."""
    fast = fields_converter(model, struct, trust_text=False)
    if fast is None:
        return reference

    def convert(instance: Any) -> dict[str, Any]:
        try:
            return fast(instance.__dict__)
        except Exception:  # the reference path raises the precise error, or agrees
            return reference(instance)

    return convert
