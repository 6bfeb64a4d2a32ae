"""Internal: Check and convert a Python record against an Avro writer schema, before fastavro encodes it.

fastavro's own errors name neither the field path nor the reason well, and it silently coerces
some values (a naive datetime for a UTC timestamp, a float into a decimal by guessing). This
module compiles the stream's writer schema once into converters that refuse such input with an
`InvalidRecordError` naming the field path (``loc.lat``, ``items[3]``, ``tags['k']``), the value
and the reason, and otherwise hand fastavro plain values: logical types arrive already as their
underlying int, long or bytes, so the writer schema given to fastavro has its logical types
removed (`without_logical_types`) and nothing is converted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zerobus.encoders.avro_scalars import (
    PRIMITIVES,
    AvroValueError,
    Converter,
    enum_converter,
    fixed_converter,
    logical_converter,
    primitive_converter,
)
from zerobus.errors import ConfigurationError, InvalidRecordError
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits

__all__ = ["compile_record_converter", "without_logical_types"]

_NAMED = frozenset({"record", "error", "enum", "fixed"})


def without_logical_types(node: Any) -> Any:
    """The schema with every `logicalType` removed: what fastavro writes the converted values with."""
    if isinstance(node, list):
        return [without_logical_types(item) for item in node]
    if isinstance(node, dict):
        return {key: without_logical_types(value) for key, value in node.items() if key != "logicalType"}
    return node


class _Names(dict[str, Converter]):
    """Converters of the named types by full name, and the stream's declared integer units."""

    def __init__(self, units: IntegerUnits) -> None:
        super().__init__()
        self.units = units


def compile_record_converter(
    schema: Any, units: IntegerUnits = AUTO_UNITS
) -> Callable[[Any], dict[str, Any]]:
    """The converter for records of `schema` (JSON data of a `record` schema); raises `InvalidRecordError`.

    `units`: the declared unit of integers given for `date` and `timestamp-micros` /
    `local-timestamp-micros` fields (`codegen.time_units`); by default an integer of another
    unit's typical magnitude is refused, as for the other record formats. `-millis` fields take
    integers as milliseconds: their schema says so."""
    if not isinstance(schema, dict) or schema.get("type") not in ("record", "error"):
        raise ConfigurationError("TableProperties.avro_schema: the writer schema must be an Avro record")
    named = _Names(units)
    convert = _compile(schema, "", named)

    def convert_record(record: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = convert(record)
        except AvroValueError as bad:
            raise InvalidRecordError(bad.path.lstrip("."), bad.value, bad.reason) from None
        return result

    return convert_record


# --- compiling ------------------------------------------------------------------------------------


def _fullname(node: dict[str, Any], namespace: str) -> tuple[str, str]:
    name = str(node.get("name", ""))
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    space = node.get("namespace", namespace) or ""
    return (f"{space}.{name}" if space else name), space


def _compile(node: Any, namespace: str, named: _Names) -> Converter:
    if isinstance(node, list):
        return _union(node, namespace, named)
    if isinstance(node, str):
        if node in PRIMITIVES:
            return primitive_converter(node)
        return _reference(node, namespace, named)
    if not isinstance(node, dict):
        raise ConfigurationError(f"TableProperties.avro_schema: {node!r} is not an Avro type")
    kind = node.get("type")
    logical = node.get("logicalType")
    if kind in PRIMITIVES:
        special = logical_converter(kind, logical, node, named.units)
        return special if special is not None else primitive_converter(kind)
    if kind in _NAMED:
        fullname, space = _fullname(node, namespace)
        if kind == "enum":
            converter = enum_converter(node)
        elif kind == "fixed":
            converter = fixed_converter(node, logical)
        else:
            converter = _record(node, space, named, fullname)
        named[fullname] = converter
        return converter
    if kind == "array":
        return _array(_compile(node.get("items"), namespace, named))
    if kind == "map":
        return _map(_compile(node.get("values"), namespace, named))
    return _compile(kind, namespace, named)  # {"type": "string"} and {"type": <named reference>}


def _reference(name: str, namespace: str, named: _Names) -> Converter:
    candidates = [f"{namespace}.{name}", name] if namespace and "." not in name else [name]

    def convert(value: Any) -> Any:  # looked up late: a record may refer to itself
        for candidate in candidates:
            target = named.get(candidate)
            if target is not None:
                return target(value)
        raise AvroValueError(value, f"the writer schema refers to an undefined type {name!r}")

    return convert


def _type_label(node: Any, namespace: str) -> str:
    """A union branch's name as fastavro matches it in ``(name, value)``: named types by full name."""
    if isinstance(node, str):
        if node in PRIMITIVES or "." in node or not namespace:
            return node
        return f"{namespace}.{node}"
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in _NAMED:
            return _fullname(node, namespace)[0]
        return _type_label(kind, namespace) if isinstance(kind, str) else "union"
    return "union"


# --- nested -------------------------------------------------------------------------------------


def _array(item: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise AvroValueError(value, f"expected a list for Avro array, got {type(value).__name__}")
        out = []
        for index, element in enumerate(value):
            try:
                out.append(item(element))
            except AvroValueError as bad:
                raise bad.under(f"[{index}]") from None
        return out

    return convert


def _map(values: Converter) -> Converter:
    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise AvroValueError(value, f"expected a dict for Avro map, got {type(value).__name__}")
        out = {}
        for key, element in value.items():
            if not isinstance(key, str):
                raise AvroValueError(key, f"Avro map keys are strings, got {type(key).__name__}").under(
                    f"{{{key!r}}}"
                )
            try:
                out[key] = values(element)
            except AvroValueError as bad:
                raise bad.under(f"[{key!r}]") from None
        return out

    return convert


def _accepts_null(node: Any) -> bool:
    return node == "null" or (isinstance(node, list) and "null" in node)


def _record(node: dict[str, Any], namespace: str, named: _Names, fullname: str) -> Converter:
    fields: list[tuple[str, Converter, bool, Any, bool]] = []
    known: set[str] = set()
    label = node.get("name")

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            dump = getattr(value, "model_dump", None)
            if dump is None:
                raise AvroValueError(
                    value, f"expected a dict for Avro record {label}, got {type(value).__name__}"
                )
            value = dump(by_alias=True)  # column names, also for renamed (aliased) fields
        for key in value:
            if key not in known:
                raise AvroValueError(value[key], f"unknown field; record {label} has {sorted(known)}").under(
                    f".{key}"
                )
        out: dict[str, Any] = {}
        for name, field_convert, has_default, default, nullable in fields:
            if name in value:
                item = value[name]
            elif has_default:
                item = default
            elif nullable:
                item = None
            else:
                raise AvroValueError(
                    None, "required field is missing (its Avro type has no null and no default)"
                ).under(f".{name}")
            try:
                out[name] = field_convert(item)
            except AvroValueError as bad:
                raise bad.under(f".{name}") from None
        return out

    # Registered before its fields compile, so a field may refer back to this record.
    named[fullname] = convert
    for field in node.get("fields", []):
        name = str(field["name"])
        fields.append(
            (
                name,
                _compile(field["type"], namespace, named),
                "default" in field,
                field.get("default"),
                _accepts_null(field["type"]),
            )
        )
    known.update(entry[0] for entry in fields)

    return convert


def _union(branches: list[Any], namespace: str, named: _Names) -> Converter:
    labels = [_type_label(branch, namespace) for branch in branches]
    compiled = [
        (label, _compile(branch, namespace, named)) for label, branch in zip(labels, branches, strict=True)
    ]
    by_label = dict(compiled)
    has_null = "null" in labels
    others = [(label, convert) for label, convert in compiled if label != "null"]
    # fastavro would guess the branch again from the value; naming it settles ["int", "long"] etc.
    tagged = len(others) > 1

    def convert(value: Any) -> Any:
        if value is None:
            if has_null:
                return None
            raise AvroValueError(value, f"null is not allowed here (Avro union {labels} has no null)")
        if isinstance(value, tuple) and len(value) == 2 and value[0] in labels:
            label, inner = value
            return (label, by_label[label](inner))
        if len(others) == 1:
            return others[0][1](value)
        for label, branch in others:
            try:
                datum = branch(value)
            except AvroValueError:
                continue
            return (label, datum) if tagged else datum
        raise AvroValueError(value, f"matches no branch of the Avro union {labels}")

    return convert
