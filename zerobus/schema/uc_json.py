"""Internal: Read Spark JSON data types and Unity Catalog table JSON into the IR.

The Unity Catalog tables API describes each column by `type_json` (Spark's JSON type format, which
carries nested nullability) and `type_text` (parsed by `parse`). JSON booleans and strings are
checked for their JSON type, so ``"nullable": "false"`` is refused rather than read as true.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from zerobus.errors import SchemaError
from zerobus.schema.ir import (
    ArrayType,
    Column,
    DataType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)
from zerobus.schema.parse import parse_type
from zerobus.schema.type_rules import MAX_TYPE_DEPTH, check_unique_names, too_deep_reason

__all__ = ["parse_type_json", "schema_from_uc_json"]

# Spark JSON names of the same types (`type_json`).
_JSON_PRIMITIVES: dict[str, Primitive] = {p.json_name: p for p in Primitive}


def parse_type_json(value: Any, path: str = "", depth: int = 1) -> DataType:
    """Parse a Spark JSON data type (`"long"`, `{"type": "array", ...}`, `"decimal(10,2)"`).

    `depth` is the nesting level of `value` (1 for a column's own type).
    """
    if depth > MAX_TYPE_DEPTH:
        raise SchemaError(too_deep_reason(), path or None)
    if isinstance(value, str):
        primitive = _JSON_PRIMITIVES.get(value)
        if primitive is not None:
            return PrimitiveType(primitive)
        if value == "string":
            return StringType()
        # decimal(p,s), varchar(n), char(n) and anything else text-shaped.
        return parse_type(value, path)
    if isinstance(value, Mapping):
        kind = value.get("type")
        if kind == "array":
            element = parse_type_json(value.get("elementType"), f"{path}.element", depth + 1)
            return ArrayType(element, _flag(value, "containsNull", True, path))
        if kind == "map":
            key = parse_type_json(value.get("keyType"), f"{path}.key", depth + 1)
            item = parse_type_json(value.get("valueType"), f"{path}.value", depth + 1)
            return MapType(key, item, _flag(value, "valueContainsNull", True, path))
        if kind == "struct":
            raw_fields = value.get("fields", [])
            if not isinstance(raw_fields, list):
                raise SchemaError(f"struct 'fields' must be a JSON array, got {raw_fields!r}", path or None)
            fields = tuple(_struct_field_from_json(f, path, depth + 1) for f in raw_fields)
            check_unique_names([f.name for f in fields], path)
            return StructType(fields)
    raise SchemaError(f"unrecognised Spark JSON type {value!r}", path or None)


def _struct_field_from_json(value: Any, path: str, depth: int = 1) -> StructField:
    if not isinstance(value, Mapping) or "name" not in value or "type" not in value:
        raise SchemaError(f"malformed struct field JSON {value!r}", path or None)
    name = value["name"]
    if not isinstance(name, str) or not name:
        raise SchemaError(f"a field name must be a non-empty string, got {name!r}", path or None)
    field_path = f"{path}.{name}" if path else name
    metadata = value.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise SchemaError(f"'metadata' must be a JSON object, got {metadata!r}", field_path)
    original = metadata.get("__CHAR_VARCHAR_TYPE_STRING")
    if original:
        data_type = parse_type(str(original), field_path)
    else:
        data_type = parse_type_json(value["type"], field_path, depth)
    comment = metadata.get("comment")
    return StructField(name, data_type, _flag(value, "nullable", True, field_path), comment)


def schema_from_uc_json(table: Mapping[str, Any]) -> TableSchema:
    """A `TableSchema` from the Unity Catalog tables API response (or a saved copy of it).

    Uses each column's `type_json` when present (it carries nested nullability), else `type_text`.
    """
    if not isinstance(table, Mapping):
        raise SchemaError(f"table JSON must be an object, got {type(table).__name__}")
    name = table.get("full_name") or ".".join(
        str(table[k]) for k in ("catalog_name", "schema_name", "name") if table.get(k)
    )
    if not name:
        raise SchemaError("table JSON has neither 'full_name' nor 'name'")
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise SchemaError(f"table {name!r} JSON has no 'columns' list")
    for index, raw in enumerate(raw_columns):
        if not isinstance(raw, Mapping):
            raise SchemaError(f"column #{index} of {name!r} is not a JSON object: {raw!r}")
    ordered = sorted(enumerate(raw_columns), key=lambda item: (_position(item[1], item[0]), item[0]))
    columns: list[Column] = []
    for position, (_, raw) in enumerate(ordered):
        column_name = raw.get("name")
        if not column_name or not isinstance(column_name, str):
            raise SchemaError(
                f"column at position {position} of {name!r} has no name (a string): {column_name!r}"
            )
        type_json = raw.get("type_json")
        if type_json:
            if isinstance(type_json, str):
                try:
                    type_json = json.loads(type_json)
                except ValueError as error:
                    raise SchemaError(f"'type_json' is not valid JSON: {error}", column_name) from None
                except RecursionError:
                    raise SchemaError(f"'type_json': {too_deep_reason()}", column_name) from None
            data_type = _struct_field_from_json(type_json, "").type
        elif raw.get("type_text"):
            data_type = parse_type(str(raw["type_text"]), column_name)
        else:
            raise SchemaError("has neither 'type_json' nor 'type_text'", column_name)
        nullable = _flag(raw, "nullable", True, column_name)
        comment = _optional_text(raw, "comment", column_name)
        columns.append(Column(column_name, data_type, nullable, comment, position))
    check_unique_names([c.name for c in columns], "")
    return TableSchema(name, tuple(columns), _optional_text(table, "comment", ""))


def _flag(raw: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
    """A JSON boolean field: `"false"` (a string) or 0 would otherwise read as the opposite or pass."""
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise SchemaError(f"'{key}' must be a JSON boolean (true or false), got {value!r}", path or None)
    return value


def _optional_text(raw: Mapping[str, Any], key: str, path: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise SchemaError(f"'{key}' must be a JSON string or null, got {value!r}", path or None)
    return value


def _position(raw: Mapping[str, Any], index: int) -> int:
    """A column's `position`, falling back to its index in the list when absent or not a number."""
    position = raw.get("position", index)
    return position if isinstance(position, int) and not isinstance(position, bool) else index
