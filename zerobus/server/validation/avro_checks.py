"""Internal: Check an AVRO stream's writer schema against its table, and read its records as wire rows.

An AVRO stream sends its writer schema (JSON text) at creation (docs/PROTOCOL.md section 12). It
must fit the table the way a PROTO descriptor must: a record whose every field is a column
(names compared ignoring case), every NOT NULL column has a field, and each field's Avro type is
one docs/PROTOCOL.md section 12 allows for the column's Delta type, nested structs, arrays and
maps member by member. Otherwise creation fails like a bad descriptor does. Errors name the
column path.

Records are decoded with fastavro against the writer schema with its logical types removed (so
values arrive as the ints, longs and bytes on the wire, never through fastavro's date or decimal
conversions, which fail on values a range check should name), then turned into the same wire
rows a PROTO record gives (`codegen.values` checks them and the materializer writes them).
"""

from __future__ import annotations

import decimal
import io
import json
import re
from collections.abc import Callable
from typing import Any

from zerobus.encoders.avro_values import without_logical_types
from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
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
    TableSchema,
)

__all__ = ["AvroSchemaError", "AvroStreamSchema", "compile_avro_schema"]

Reader = Callable[[Any], Any]

_NAMED = ("record", "error", "enum", "fixed")
_INTEGER_TEXT = re.compile("[+-]?[0-9]+")
_BUILTIN = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string", *_NAMED, "array", "map"}
)


def _same(value: Any) -> Any:
    return value


def _scaled(factor: int) -> Reader:
    """Decoded Avro value -> wire value (millisecond timestamps are scaled to microseconds)."""
    if factor == 1:
        return _same
    return lambda value: value * factor


# Delta primitive -> {(Avro type, logicalType): converter from the decoded value to the wire value}.
_PRIMITIVE_TYPES: dict[Primitive, dict[tuple[str, str | None], Reader]] = {
    primitive: {(r.avro_type, r.logical_type): _scaled(r.factor) for r in row.avro_readings}
    for primitive, row in DELTA_TYPES.items()
}


class AvroSchemaError(ValueError):
    """The writer schema cannot be used for the table; the message names the column path."""


class AvroStreamSchema:
    """A checked writer schema: decodes a record's bytes into a wire row (`InvalidRecordError` if it cannot)."""

    def __init__(self, parsed: Any, row: Reader, reader: Callable[..., Any]) -> None:
        self._parsed = parsed
        self._row = row
        self._reader = reader

    def read(self, payload: bytes) -> dict[str, Any]:
        source = io.BytesIO(payload)
        try:
            datum = self._reader(source, self._parsed, None)
        except Exception as error:  # truncated data, a bad union index, text that is not UTF-8...
            raise InvalidRecordError(
                "", _short(payload), f"not a valid Avro record of the stream's writer schema: {error!r}"
            ) from None
        if source.tell() != len(payload):
            raise InvalidRecordError(
                "",
                _short(payload),
                f"not a valid Avro record of the stream's writer schema: {len(payload) - source.tell()} "
                "bytes left over after the record",
            )
        row: dict[str, Any] = self._row(datum)
        return row


def compile_avro_schema(schema_text: str, table: TableSchema) -> AvroStreamSchema:
    """Check `schema_text` against `table`; raises `AvroSchemaError` naming what does not fit."""
    import fastavro

    try:
        schema = json.loads(schema_text)
    except ValueError as error:
        raise AvroSchemaError(f"avro_schema is not JSON text: {error}") from None
    try:
        fastavro.parse_schema(schema)
        parsed = fastavro.parse_schema(without_logical_types(schema))
    except Exception as error:  # fastavro raises several types for a bad schema
        raise AvroSchemaError(f"avro_schema is not a valid Avro schema: {error}") from None
    named: dict[str, Any] = {}
    _collect_named(schema, "", named)
    if not isinstance(schema, dict) or schema.get("type") not in ("record", "error"):
        raise AvroSchemaError("avro_schema must be an Avro record (one table row)")
    row = _fields(schema, table.as_struct(), "", named, "", top_level=True)
    return AvroStreamSchema(parsed, row, fastavro.schemaless_reader)


# --- named types --------------------------------------------------------------------------------


def _fullname(node: dict[str, Any], namespace: str) -> tuple[str, str]:
    name = str(node.get("name", ""))
    if "." in name:
        return name, name.rsplit(".", 1)[0]
    space = node.get("namespace", namespace) or ""
    return (f"{space}.{name}" if space else name), space


def _collect_named(node: Any, namespace: str, named: dict[str, Any]) -> None:
    """Every named type by full name, with the namespace its own references resolve in."""
    if isinstance(node, list):
        for branch in node:
            _collect_named(branch, namespace, named)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in _NAMED:
            fullname, space = _fullname(node, namespace)
            named[fullname] = (node, space)
            namespace = space
            for field in node.get("fields", []):
                _collect_named(field.get("type"), namespace, named)
        elif kind == "array":
            _collect_named(node.get("items"), namespace, named)
        elif kind == "map":
            _collect_named(node.get("values"), namespace, named)
        elif isinstance(kind, (dict, list)):
            _collect_named(kind, namespace, named)


def _resolve(node: Any, namespace: str, named: dict[str, Any]) -> tuple[Any, str]:
    """A named reference (or ``{"type": <reference or nested type>}``) replaced by its definition."""
    for _ in range(len(named) + 2):  # bounded: a reference chain cannot be longer than the names
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, (dict, list)) or (
                isinstance(kind, str) and kind not in _BUILTIN and "logicalType" not in node
            ):
                node = kind
                continue
            return node, namespace
        if isinstance(node, str) and node not in _BUILTIN:
            for candidate in (f"{namespace}.{node}", node):
                if candidate in named:
                    definition, space = named[candidate]
                    return definition, space
        return node, namespace
    return node, namespace


# --- checking and compiling readers ---------------------------------------------------------------


def _split_null(node: Any) -> tuple[Any, bool]:
    """(the non-null type, whether null is allowed); only ``[null, T]`` unions are accepted."""
    if not isinstance(node, list):
        return node, node == "null"
    others = [branch for branch in node if branch != "null"]
    if len(others) != 1:
        raise AvroSchemaError(
            f"union {json.dumps(node)}: only unions of null and one type are supported (a column has "
            "one Delta type)"
        )
    return others[0], len(others) < len(node)


def _describe(node: Any) -> str:
    if isinstance(node, dict):
        logical = node.get("logicalType")
        kind = node.get("type")
        return f"{kind} ({logical})" if logical else str(kind)
    return node if isinstance(node, str) else json.dumps(node)


def _value_reader(node: Any, data_type: DataType, path: str, named: dict[str, Any], namespace: str) -> Reader:
    node, namespace = _resolve(node, namespace, named)
    kind = node.get("type") if isinstance(node, dict) else node
    logical = node.get("logicalType") if isinstance(node, dict) else None

    def mismatch() -> AvroSchemaError:
        return AvroSchemaError(
            f"column '{path}' is {data_type.type_text} but the Avro schema gives it {_describe(node)}"
        )

    if isinstance(data_type, PrimitiveType):
        reader = _PRIMITIVE_TYPES[data_type.primitive].get((str(kind), logical))
        if reader is None:
            raise mismatch()
        return reader
    if isinstance(data_type, StringType):
        if kind not in ("string", "enum"):
            raise mismatch()
        return _same
    if isinstance(data_type, DecimalType):
        return _decimal_reader(node, kind, logical, data_type, path, mismatch)
    if isinstance(data_type, ArrayType):
        if kind != "array":
            raise mismatch()
        items, nullable = _split_null(node.get("items"))
        if nullable:
            raise AvroSchemaError(
                f"column '{path}': array items cannot be null (Delta arrays here hold no nulls)"
            )
        if _encodes_to_nothing(items, namespace, named, set()):
            # A record claiming 2**62 such items would make the decoder build them all from no bytes.
            raise AvroSchemaError(
                f"column '{path}': array items of {_describe(items)} take no bytes on the wire (a record "
                "without fields, a fixed of size 0); give them at least one field"
            )
        item = _value_reader(items, data_type.element, f"{path}[]", named, namespace)
        return lambda value: [item(element) for element in value]
    if isinstance(data_type, MapType):
        if kind != "map":
            raise mismatch()
        values, nullable = _split_null(node.get("values"))
        if nullable:
            raise AvroSchemaError(f"column '{path}': map values cannot be null")
        value_reader = _value_reader(values, data_type.value, f"{path}[]", named, namespace)
        key_reader = _map_key_reader(data_type.key, path)
        return lambda value: {key_reader(key): value_reader(item) for key, item in value.items()}
    if kind not in ("record", "error"):
        raise mismatch()
    return _fields(node, data_type, path, named, namespace, top_level=False)


def _encodes_to_nothing(node: Any, namespace: str, named: dict[str, Any], seen: set[str]) -> bool:
    """Whether every value of this type is encoded in zero bytes (null, fixed(0), field-less records)."""
    node, namespace = _resolve(node, namespace, named)
    if node == "null":
        return True
    if not isinstance(node, dict):
        return False
    kind = node.get("type")
    if kind == "fixed":
        return int(node.get("size", 0)) == 0
    if kind not in ("record", "error"):
        return False
    fullname = _fullname(node, namespace)[0]
    if fullname in seen:  # a record that contains itself cannot be empty unless already shown so
        return False
    seen.add(fullname)
    return all(
        _encodes_to_nothing(field.get("type"), namespace, named, seen) for field in node.get("fields", [])
    )


def _decimal_reader(
    node: Any,
    kind: Any,
    logical: Any,
    data_type: DecimalType,
    path: str,
    mismatch: Callable[[], AvroSchemaError],
) -> Reader:
    if kind == "string" and logical is None:
        return _same  # decimal text, as in PROTO and JSON records
    if kind not in ("bytes", "fixed") or logical != "decimal":
        raise mismatch()
    scale = int(node.get("scale", 0) or 0)
    precision = int(node.get("precision", 0))
    if scale != data_type.scale or precision > data_type.precision:
        raise AvroSchemaError(
            f"column '{path}' is {data_type.type_text} but the Avro schema gives it "
            f"decimal({precision},{scale}) (the scale must be equal, the precision not larger)"
        )

    def read(value: bytes) -> str:
        unscaled = int.from_bytes(value, "big", signed=True)
        # From text: exact at any precision (arithmetic would round to the context's 28 digits).
        return decimal_text(decimal.Decimal(f"{unscaled}E-{scale}"), data_type, path)

    return read


def _map_key_reader(key_type: DataType, path: str) -> Reader:
    """Avro map keys are text: integral and boolean keys travel as ``"7"`` / ``"true"``."""
    kind = DELTA_TYPES[key_type.primitive].kind if isinstance(key_type, PrimitiveType) else None
    if kind is ValueKind.BOOLEAN:

        def read_bool(key: str) -> bool:
            if key not in ("true", "false"):
                raise InvalidRecordError(
                    f"{path}{{{key!r}}}", key, "a BOOLEAN map key must be 'true' or 'false'"
                )
            return key == "true"

        return read_bool
    if kind is ValueKind.INTEGER:

        def read_int(key: str) -> int:
            stripped = key.strip()
            if _INTEGER_TEXT.fullmatch(stripped) is None:
                raise InvalidRecordError(
                    f"{path}{{{key!r}}}", key, f"a {key_type.type_text.upper()} map key must be integer text"
                )
            return int(stripped)

        return read_int
    return _same


def _fields(
    node: dict[str, Any],
    struct: StructType,
    path: str,
    named: dict[str, Any],
    namespace: str,
    top_level: bool,
) -> Reader:
    kind = "column" if top_level else "field"
    members = {f.name.lower(): f for f in struct.fields}
    readers: list[tuple[str, str, Reader, bool]] = []
    seen: dict[str, str] = {}
    for field in node.get("fields", []):
        name = str(field.get("name"))
        field_path = f"{path}.{name}" if path else name
        first = seen.setdefault(name.lower(), name)
        if first != name:
            raise AvroSchemaError(
                f"Avro fields '{first}' and '{name}' name the same {kind} (column names are case-insensitive)"
            )
        member: StructField | None = members.get(name.lower())
        if member is None:
            raise AvroSchemaError(
                f"{kind} '{field_path}' of the Avro schema does not exist in the table "
                f"(table {kind}s: {sorted(f.name for f in struct.fields)})"
            )
        value_node, _nullable = _split_null(field.get("type"))
        reader = _value_reader(value_node, member.type, field_path, named, namespace)
        readers.append((name, member.name, reader, reader is _same))
    for member in struct.fields:
        if not member.nullable and member.name.lower() not in seen:
            member_path = f"{path}.{member.name}" if path else member.name
            raise AvroSchemaError(
                f"{kind} '{member_path}' is NOT NULL but the Avro schema has no field for it"
            )

    def read(datum: dict[str, Any]) -> dict[str, Any]:
        row = {}
        for avro_name, column, reader, plain in readers:
            value = datum.get(avro_name)
            if value is not None:  # null: the column is left out, as an unset proto field is
                row[column] = value if plain else reader(value)
        return row

    return read


def _short(payload: bytes) -> bytes:
    return payload[:200]
