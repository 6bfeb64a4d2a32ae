"""Parse Unity Catalog / Spark SQL type text, column DDL and Spark JSON types into the IR.

Accepted spellings (case-insensitive): TINYINT/BYTE, SMALLINT/SHORT, INT/INTEGER, BIGINT/LONG,
FLOAT/REAL, DOUBLE, BOOLEAN, BINARY, STRING [COLLATE c], VARCHAR(n), CHAR(n) (CHARACTER(n)),
DECIMAL / DECIMAL(p) / DECIMAL(p,s) (also DEC, NUMERIC), DATE, TIMESTAMP (TIMESTAMP_LTZ), TIMESTAMP_NTZ, VARIANT,
ARRAY<T>, MAP<K,V> and STRUCT<name[:] T [NOT NULL] [COMMENT '...'], ...> nested to any depth,
with back-quoted names. Errors are `SchemaError`s naming the column path and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zerobus.errors import SchemaError
from zerobus.schema.delta_types_table import parametric_type, primitive_named
from zerobus.schema.ir import (
    ArrayType,
    Column,
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

__all__ = [
    "MAX_TYPE_DEPTH",
    "parse_columns",
    "parse_type",
    "parse_type_json",
    "schema_from_ddl",
    "schema_from_uc_json",
]

MAX_DECIMAL_PRECISION = 38
# Types nest at most this deep (``array<int>`` is 2 levels): deeper ones are refused with a
# SchemaError naming the column, never a RecursionError, and every layer that walks a type
# (descriptors, protobuf's own parser, the converters) stays far from Python's recursion limit.
MAX_TYPE_DEPTH = 64

# Spark JSON names of the same types (`type_json`).
_JSON_PRIMITIVES: dict[str, Primitive] = {p.json_name: p for p in Primitive}
_UNSUPPORTED = {"INTERVAL", "GEOMETRY", "GEOGRAPHY", "VOID", "NULL", "OBJECT", "CALENDARINTERVAL"}
_DECIMAL_NAMES = frozenset(parametric_type(DecimalType()).sql_names)
_NO_REPRESENTATION = (
    "has no Zerobus representation (supported: integral, FLOAT, DOUBLE, DECIMAL, BOOLEAN, STRING, "
    "VARCHAR, CHAR, BINARY, DATE, TIMESTAMP, TIMESTAMP_NTZ, VARIANT, ARRAY, MAP, STRUCT)"
)


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "quoted" | "string" | "number" | "punct" | "end"
    text: str
    pos: int


def _tokenize(text: str, column: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "<>(),:":
            tokens.append(_Token("punct", ch, i))
            i += 1
        elif ch == "`":
            j, parts = i + 1, []
            while True:
                if j >= n:
                    raise SchemaError(f"unterminated back-quoted name at position {i} in {text!r}", column)
                if text[j] == "`":
                    if j + 1 < n and text[j + 1] == "`":
                        parts.append("`")
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            tokens.append(_Token("quoted", "".join(parts), i))
            i = j + 1
        elif ch in "'\"":
            j, parts = i + 1, []
            while True:
                if j >= n:
                    raise SchemaError(f"unterminated string literal at position {i} in {text!r}", column)
                if text[j] == "\\" and j + 1 < n:
                    parts.append(text[j + 1])
                    j += 2
                    continue
                if text[j] == ch:
                    if j + 1 < n and text[j + 1] == ch:  # SQL-style doubled quote
                        parts.append(ch)
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            tokens.append(_Token("string", "".join(parts), i))
            i = j + 1
        elif ch.isalnum() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            tokens.append(_Token("number" if word.isdigit() else "word", word, i))
            i = j
        else:
            raise SchemaError(f"unexpected character {ch!r} at position {i} in {text!r}", column)
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    """Recursive descent over the tokens of one type text or column list."""

    def __init__(self, text: str, column: str = "") -> None:
        self.text = text
        self.column = column
        self.tokens = _tokenize(text, column)
        self.index = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def next(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.peek()
        return token.kind == "word" and token.text.upper() in words

    def at_punct(self, ch: str) -> bool:
        token = self.peek()
        return token.kind == "punct" and token.text == ch

    def expect_punct(self, ch: str, path: str) -> None:
        token = self.next()
        if token.kind != "punct" or token.text != ch:
            self.fail(f"expected {ch!r} but found {token.text or 'end of text'!r}", path, token)

    def expect_number(self, path: str) -> int:
        token = self.next()
        if token.kind != "number":
            self.fail(f"expected a number but found {token.text or 'end of text'!r}", path, token)
        return int(token.text)

    def fail(self, reason: str, path: str, token: _Token | None = None) -> None:
        where = f" at position {token.pos}" if token is not None else ""
        raise SchemaError(f"{reason}{where} in {self.text!r}", path or self.column or None)

    def name(self, path: str) -> str:
        token = self.next()
        if token.kind in ("word", "quoted", "number"):
            return token.text
        self.fail(f"expected a name but found {token.text or 'end of text'!r}", path, token)
        raise AssertionError("unreachable")

    # -- grammar -------------------------------------------------------------------------------
    def data_type(self, path: str) -> DataType:
        self.depth += 1
        try:
            if self.depth > MAX_TYPE_DEPTH:
                self.fail(_too_deep(), path, self.peek())
            return self._data_type(path)
        finally:
            self.depth -= 1

    def _data_type(self, path: str) -> DataType:
        token = self.next()
        if token.kind != "word":
            self.fail(f"expected a type but found {token.text or 'end of text'!r}", path, token)
        word = token.text.upper()
        if word == "ARRAY":
            self.expect_punct("<", path)
            element = self.data_type(f"{path}.element")
            self.expect_punct(">", path)
            return ArrayType(element)
        if word == "MAP":
            self.expect_punct("<", path)
            key = self.data_type(f"{path}.key")
            self.expect_punct(",", path)
            value = self.data_type(f"{path}.value")
            self.expect_punct(">", path)
            return MapType(key, value)
        if word == "STRUCT":
            return self.struct_body(path)
        if word in _DECIMAL_NAMES:
            return self.decimal(path)
        if word in ("VARCHAR", "CHAR", "CHARACTER"):
            kind = "varchar" if word == "VARCHAR" else "char"
            self.expect_punct("(", path)
            length = self.expect_number(path)
            self.expect_punct(")", path)
            if length < 1:
                self.fail(f"{kind.upper()} length must be at least 1, got {length}", path, token)
            self.collation(path)
            return StringType(kind, length)
        if word == "STRING":
            self.collation(path)
            return StringType()
        if word == "DOUBLE" and self.at_word("PRECISION"):
            self.next()
            return PrimitiveType(Primitive.DOUBLE)
        primitive = primitive_named(word)
        if primitive is not None:
            return PrimitiveType(primitive)
        if word in _UNSUPPORTED:
            self.fail(f"type {word} {_NO_REPRESENTATION}", path)
        self.fail(f"unknown type {token.text!r}", path, token)
        raise AssertionError("unreachable")

    def collation(self, path: str) -> None:
        """Skip `COLLATE name`: a collation changes comparisons, not the values on the wire."""
        if self.at_word("COLLATE"):
            self.next()
            self.name(path)

    def decimal(self, path: str) -> DecimalType:
        precision, scale = 10, 0
        if self.at_punct("("):
            self.next()
            precision = self.expect_number(path)
            if self.at_punct(","):
                self.next()
                scale = self.expect_number(path)
            self.expect_punct(")", path)
        if not 1 <= precision <= MAX_DECIMAL_PRECISION:
            self.fail(f"DECIMAL precision must be 1..{MAX_DECIMAL_PRECISION}, got {precision}", path)
        if scale > precision:
            self.fail(f"DECIMAL scale {scale} exceeds precision {precision}", path)
        return DecimalType(precision, scale)

    def struct_body(self, path: str) -> StructType:
        self.expect_punct("<", path)
        fields: list[StructField] = []
        if self.at_punct(">"):
            self.next()
            return StructType(())
        while True:
            name = self.name(path)
            field_path = f"{path}.{name}" if path else name
            if self.at_punct(":"):
                self.next()
            data_type = self.data_type(field_path)
            nullable, comment = self.constraints(field_path)
            fields.append(StructField(name, data_type, nullable, comment))
            if self.at_punct(","):
                self.next()
                continue
            self.expect_punct(">", path)
            break
        _check_unique([f.name for f in fields], path)
        return StructType(tuple(fields))

    def constraints(self, path: str) -> tuple[bool, str | None]:
        nullable, comment = True, None
        while True:
            if self.at_word("NOT"):
                self.next()
                token = self.next()
                if token.kind != "word" or token.text.upper() != "NULL":
                    self.fail("expected NULL after NOT", path, token)
                nullable = False
            elif self.at_word("NULL"):
                self.next()
            elif self.at_word("COMMENT"):
                self.next()
                token = self.next()
                if token.kind != "string":
                    self.fail("expected a quoted string after COMMENT", path, token)
                comment = token.text
            elif self.at_word("GENERATED", "DEFAULT"):
                self.fail(
                    "generated and default columns are not supported by Zerobus (error 1015)",
                    path,
                    self.peek(),
                )
            else:
                return nullable, comment

    def columns(self) -> list[Column]:
        columns: list[Column] = []
        if self.peek().kind == "end":
            return columns
        while True:
            name = self.name("")
            data_type = self.data_type(name)
            nullable, comment = self.constraints(name)
            columns.append(Column(name, data_type, nullable, comment, len(columns)))
            if self.at_punct(","):
                self.next()
                continue
            token = self.next()
            if token.kind != "end":
                self.fail(f"expected ',' or end of text but found {token.text!r}", name, token)
            break
        _check_unique([c.name for c in columns], "")
        return columns

    def end(self, path: str) -> None:
        token = self.next()
        if token.kind != "end":
            self.fail(f"unexpected {token.text!r} after the type", path, token)


def _too_deep() -> str:
    return f"type nested more than {MAX_TYPE_DEPTH} levels deep (at most {MAX_TYPE_DEPTH} are supported)"


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


def _check_unique(names: list[str], path: str) -> None:
    seen: set[str] = set()
    for name in names:
        key = name.lower()  # Delta column names are case-insensitive
        if key in seen:
            full = f"{path}.{name}" if path else name
            raise SchemaError("duplicate name (names are case-insensitive)", full)
        seen.add(key)


def parse_type(text: str, column: str = "") -> DataType:
    """Parse one type, e.g. ``struct<a:int not null, `b c`: array<decimal(10,2)>>``."""
    parser = _Parser(text, column)
    data_type = parser.data_type(column)
    parser.end(column)
    return data_type


def parse_columns(ddl: str) -> tuple[Column, ...]:
    """Parse a column list, e.g. ``"device_name STRING, temp INT NOT NULL COMMENT 'C'"``."""
    return tuple(_Parser(ddl).columns())


def schema_from_ddl(ddl: str, name: str) -> TableSchema:
    """A `TableSchema` named `name` from a column DDL list."""
    columns = parse_columns(ddl)
    if not columns:
        raise SchemaError(f"table {name!r} has no columns")
    return TableSchema(name, columns)


def parse_type_json(value: Any, path: str = "", depth: int = 1) -> DataType:
    """Parse a Spark JSON data type (`"long"`, `{"type": "array", ...}`, `"decimal(10,2)"`).

    `depth` is the nesting level of `value` (1 for a column's own type).
    """
    if depth > MAX_TYPE_DEPTH:
        raise SchemaError(_too_deep(), path or None)
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
            _check_unique([f.name for f in fields], path)
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
                    raise SchemaError(f"'type_json': {_too_deep()}", column_name) from None
            data_type = _struct_field_from_json(type_json, "").type
        elif raw.get("type_text"):
            data_type = parse_type(str(raw["type_text"]), column_name)
        else:
            raise SchemaError("has neither 'type_json' nor 'type_text'", column_name)
        nullable = _flag(raw, "nullable", True, column_name)
        comment = _optional_text(raw, "comment", column_name)
        columns.append(Column(column_name, data_type, nullable, comment, position))
    _check_unique([c.name for c in columns], "")
    return TableSchema(name, tuple(columns), _optional_text(table, "comment", ""))


def _position(raw: Mapping[str, Any], index: int) -> int:
    """A column's `position`, falling back to its index in the list when absent or not a number."""
    position = raw.get("position", index)
    return position if isinstance(position, int) and not isinstance(position, bool) else index
