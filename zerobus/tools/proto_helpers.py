"""Internal: The official ``generate_proto`` module's helper functions, on this package's codegen.

Same names, signatures and results as the official tool's helpers for every input it handles, so
code and tests written against ``zerobus.tools.generate_proto`` keep working. Types are parsed by
our parser and laid out by our proto layout (the ones ``zerobus-codegen`` uses), so these helpers
also take what the official ones refuse: DECIMAL, CHAR, INTEGER, REAL, ``STRING COLLATE``,
back-quoted names, ``name TYPE`` struct members and parenthesised arguments inside containers.
Errors keep the official wording (``Nested arrays are not supported`` ...) and the official
exception types: `ValueError` for types and names, `KeyError` for table JSON without columns,
`requests.RequestException` for Unity Catalog failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from zerobus import oauth
from zerobus.codegen.proto_emit import message_view, proto_text
from zerobus.codegen.render import environment
from zerobus.errors import SchemaError, ZerobusException
from zerobus.schema.ir import ArrayType, Column, DataType, MapType, StructType, TableSchema
from zerobus.schema.parse import parse_type
from zerobus.schema.proto_layout import layout, pascal_case, validate_proto_name
from zerobus.schema.typemap import MAP_KEY_PROTO_TYPES, proto_scalar
from zerobus.schema.uc import fetch_table_json

__all__ = [
    "MAX_NESTING_LEVEL",
    "PROTO_KEYWORDS",
    "extract_columns",
    "fetch_table_info",
    "generate_proto_file",
    "get_oauth_token",
    "get_proto_field_info",
    "parse_array_type",
    "parse_map_type",
    "parse_struct_type",
    "to_pascal_case",
    "validate_field_name",
]

MAX_NESTING_LEVEL = 100
# The words the official tool refuses as field names.
PROTO_KEYWORDS = frozenset(
    {
        "syntax",
        "import",
        "option",
        "package",
        "message",
        "enum",
        "service",
        "rpc",
        "returns",
        "reserved",
        "to",
        "max",
        "double",
        "float",
        "int32",
        "int64",
        "uint32",
        "uint64",
        "sint32",
        "sint64",
        "fixed32",
        "fixed64",
        "sfixed32",
        "sfixed64",
        "bool",
        "string",
        "bytes",
    }
)
# The placeholder message one field is laid out in (never appears in the results).
_HOLDER = "FieldHolder"


# --- Unity Catalog ------------------------------------------------------------------------------


def get_oauth_token(uc_endpoint: str, client_id: str, client_secret: str) -> str:
    """A metadata token (client credentials, ``scope=all-apis``) from the workspace's OAuth endpoint."""
    try:
        return oauth.fetch_metadata_token(uc_endpoint, client_id, client_secret, None)
    except ZerobusException as error:
        raise requests.exceptions.RequestException(f"OAuth request failed: {error}") from error


def fetch_table_info(endpoint: str, token: str, table: str) -> dict[str, Any]:
    """The table's JSON from Unity Catalog's tables API, read with `token`."""
    try:
        return fetch_table_json(table, endpoint, token=token)
    except ZerobusException as error:
        raise requests.exceptions.RequestException(str(error)) from error


def extract_columns(table_info: dict[str, Any]) -> list[dict[str, Any]]:
    """``name``, ``type_text`` and ``nullable`` of each column; `KeyError` names a missing key."""
    try:
        return [
            {"name": column["name"], "type_text": column["type_text"], "nullable": column["nullable"]}
            for column in table_info["columns"]
        ]
    except KeyError as error:
        raise KeyError(f"Failed to extract column information: missing key {error}") from None


# --- names --------------------------------------------------------------------------------------


def to_pascal_case(s: str) -> str:
    """``field_name`` -> ``FieldName`` (the names of nested messages)."""
    return pascal_case(s)


def _check_identifier(name: str) -> None:
    """The official tool's wording for names that cannot be protobuf identifiers."""
    if not all(ch.isalnum() or ch == "_" for ch in name):
        raise ValueError(
            f"Invalid Protobuf field name '{name}'. Contains non-alphanumeric characters (besides underscore)."
        )
    if name[:1].isdigit():
        raise ValueError(f"Invalid Protobuf field name '{name}'. Cannot start with a digit.")


def validate_field_name(name: str) -> str:
    """`name` if it can be a protobuf field name under the official tool's rules, else `ValueError`."""
    _check_identifier(name)
    if name in PROTO_KEYWORDS:
        raise ValueError(f"Invalid Protobuf field name '{name}'. It is a reserved keyword.")
    try:
        return validate_proto_name(name, name)
    except SchemaError as error:  # letters outside ASCII: protobuf identifiers are ASCII
        raise ValueError(f"Invalid Protobuf field name '{name}'. {error}") from None


# --- splitting type text ------------------------------------------------------------------------


_QUOTES = "`'\""


def _separators(text: str, wanted: str) -> list[tuple[int, str, int]]:
    """``(position, character, depth)`` of each of `wanted` in `text`, outside quotes.

    Depth counts ``<`` and ``(`` left open before the character (a closing one counts as still
    open), as our type grammar nests them; back-quoted names and quoted comments are skipped,
    so their commas and colons never split anything.
    """
    found, depth, quote = [], 0, ""
    for position, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in _QUOTES:
            quote = ch
        else:
            if ch in "<(":
                depth += 1
            if ch in wanted:
                found.append((position, ch, depth))
            if ch in ">)":
                depth -= 1
    return found


def _arguments(column_type: str, keyword: str) -> list[str] | None:
    """The top-level arguments of ``KEYWORD<a, b, ...>`` as written (stripped), or None if it is not one."""
    text = column_type.strip()
    head = text[: len(keyword)].upper()
    rest = text[len(keyword) :].lstrip()
    if head != keyword or not rest.startswith("<") or not rest.endswith(">"):
        return None
    inner_start = len(text) - len(rest) + 1
    parts, start = [], inner_start
    for position, ch, depth in _separators(text, "<>(),"):
        if ch in ">)" and depth == 1 and position != len(text) - 1:
            return None  # closed before the end: `ARRAY<INT>, ARRAY<INT>` is not one type
        if ch == "," and depth == 1:
            parts.append(text[start:position].strip())
            start = position + 1
    parts.append(text[start:-1].strip())
    return parts if all(parts) else None


def parse_array_type(column_type: str) -> str | None:
    """The element type of ``ARRAY<T>`` as written (``"array<string>"`` -> ``"string"``), else None."""
    parts = _arguments(column_type, "ARRAY")
    return parts[0] if parts is not None and len(parts) == 1 else None


def parse_map_type(column_type: str) -> tuple[str, str] | None:
    """``(key, value)`` of ``MAP<K, V>`` as written, else None."""
    parts = _arguments(column_type, "MAP")
    return (parts[0], parts[1]) if parts is not None and len(parts) == 2 else None


def _member(text: str) -> tuple[str, str] | None:
    """``name: type`` (or Spark's ``name type``) -> ``(name, type)``; a back-quoted name is unquoted."""
    colons = [position for position, _, depth in _separators(text, ":") if depth == 0]
    if colons:
        name, field_type = text[: colons[0]].strip(), text[colons[0] + 1 :].strip()
    else:
        name, _, field_type = text.partition(" ")
        field_type = field_type.strip()
    if len(name) >= 2 and name[0] == name[-1] == "`":
        name = name[1:-1].replace("``", "`")
    return (name, field_type) if name and field_type else None


def parse_struct_type(column_type: str) -> list[tuple[str, str]] | None:
    """``[(name, type), ...]`` of ``STRUCT<name: type, ...>`` as written, else None.

    The type keeps what follows it (``INT NOT NULL``).
    """
    parts = _arguments(column_type, "STRUCT")
    if parts is None:
        return None
    fields = [_member(part) for part in parts]
    return [field for field in fields if field is not None] if all(fields) else None


# --- proto fields -------------------------------------------------------------------------------


def _map_key_is_supported(key: str) -> bool:
    try:
        scalar = proto_scalar(parse_type(key))
    except SchemaError as error:
        raise ValueError(f"Unknown column type: {key} ({error})") from error
    return scalar is not None and scalar.type in MAP_KEY_PROTO_TYPES


def _official_restrictions(column_type: str) -> None:
    """The official tool's refusals, in its words and order, over the type text as written."""
    element = parse_array_type(column_type)
    if element is not None:
        if parse_array_type(element) is not None:
            raise ValueError("Nested arrays are not supported: array<array<...>>")
        if parse_map_type(element) is not None:
            raise ValueError("Arrays of maps are not supported: array<map<...>>")
        _official_restrictions(element)
        return
    pair = parse_map_type(column_type)
    if pair is not None:
        key, value = pair
        if parse_map_type(key) is not None:
            raise ValueError("Maps with map keys are not supported: map<map<...>, ...>")
        if parse_array_type(key) is not None:
            raise ValueError("Maps with array keys are not supported: map<array<...>, ...>")
        if not _map_key_is_supported(key):
            raise ValueError(f"Unsupported map key type for Protobuf: {key}")
        if parse_map_type(value) is not None:
            raise ValueError("Maps with map values are not supported: map<..., map<...>>")
        if parse_array_type(value) is not None:
            raise ValueError("Maps with array values are not supported: map<..., array<...>>")
        _official_restrictions(value)
        return
    members = parse_struct_type(column_type)
    if members is not None:
        for name, member_type in members:
            _official_restrictions(member_type)
            _check_identifier(name)
        return
    if column_type.strip()[:6].upper() == "STRUCT" and column_type.strip()[6:].replace(" ", "") == "<>":
        raise ValueError(f"Unknown column type: {column_type}")


def _parse(column_type: str, field_name: str) -> DataType:
    _official_restrictions(column_type)
    try:
        return parse_type(column_type, field_name)
    except SchemaError as error:
        raise ValueError(f"Unknown column type: {column_type} ({error})") from error


def _count_structs(data_type: DataType) -> int:
    if isinstance(data_type, ArrayType):
        return _count_structs(data_type.element)
    if isinstance(data_type, MapType):
        return _count_structs(data_type.value)
    if isinstance(data_type, StructType):
        return 1 + sum(_count_structs(member.type) for member in data_type.fields)
    return 0


def get_proto_field_info(
    field_name: str,
    column_type: str,
    nullable: bool,
    struct_counter: dict[str, int],
    level: int = 0,
) -> tuple[str, str, str | None]:
    """``(modifier, proto_type, nested_definition)`` of one column, as the official tool lays it out.

    `modifier` is ``optional``/``required`` (by `nullable`), ``repeated`` for arrays and ``""`` for
    maps; `nested_definition` is the text of the message a STRUCT becomes, indented for `level`
    (one tab deeper when reached through an ARRAY or MAP), else None. `struct_counter["count"]`
    counts structs across calls and names the ones whose field name has no PascalCase.
    """
    if level > MAX_NESTING_LEVEL:
        raise ValueError(f"Nesting level exceeds maximum depth of {MAX_NESTING_LEVEL}")
    data_type = _parse(column_type, field_name)
    schema = TableSchema(_HOLDER, (Column(field_name, data_type, nullable),))
    (field,) = layout(schema, _HOLDER, struct_counter["count"]).fields
    struct_counter["count"] += _count_structs(data_type)
    modifier = "" if field.label == "map" else field.label
    nested = None
    if field.value.message is not None:
        depth = level + (1 if field.label in ("repeated", "map") else 0)
        template = environment().get_template("proto2.proto.j2")
        view = message_view(field.value.message, depth)
        macros = template.make_module({"message": view})
        # A template macro: an attribute mypy cannot see.
        nested = str(macros.render_message(view))  # type: ignore[attr-defined]
    return modifier, field.type_text, nested


def generate_proto_file(message_name: str, columns: list[dict[str, Any]], output_path: str) -> None:
    """Write the proto2 file of message `message_name` with `columns` (`extract_columns` rows)."""
    built = []
    for position, column in enumerate(columns):
        data_type = _parse(column["type_text"], column["name"])
        _check_identifier(column["name"])
        built.append(Column(column["name"], data_type, bool(column["nullable"]), None, position))
    text = proto_text(TableSchema(message_name, tuple(built)), message_name)
    Path(output_path).write_text(text, encoding="utf-8")
