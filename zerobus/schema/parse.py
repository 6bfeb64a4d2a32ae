"""Internal: Parse Unity Catalog / Spark SQL type text and column DDL into the IR.

Accepted spellings (case-insensitive): TINYINT/BYTE, SMALLINT/SHORT, INT/INTEGER, BIGINT/LONG,
FLOAT/REAL, DOUBLE, BOOLEAN, BINARY, STRING [COLLATE c], VARCHAR(n), CHAR(n) (CHARACTER(n)),
DECIMAL / DECIMAL(p) / DECIMAL(p,s) (also DEC, NUMERIC), DATE, TIMESTAMP (TIMESTAMP_LTZ), TIMESTAMP_NTZ, VARIANT,
ARRAY<T>, MAP<K,V> and STRUCT<name[:] T [NOT NULL] [COMMENT '...'], ...> nested to any depth,
with back-quoted names. Errors are `SchemaError`s naming the column path and the reason.
Spark JSON types and Unity Catalog table JSON are read by `uc_json`.
"""

from __future__ import annotations

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
from zerobus.schema.type_rules import MAX_TYPE_DEPTH, check_unique_names, too_deep_reason
from zerobus.schema.type_tokens import Token, tokenize

__all__ = ["parse_columns", "parse_type", "schema_from_ddl"]


MAX_DECIMAL_PRECISION = 38
_UNSUPPORTED = {"INTERVAL", "GEOMETRY", "GEOGRAPHY", "VOID", "NULL", "OBJECT", "CALENDARINTERVAL"}
_DECIMAL_NAMES = frozenset(parametric_type(DecimalType()).sql_names)
_NO_REPRESENTATION = (
    "has no Zerobus representation (supported: integral, FLOAT, DOUBLE, DECIMAL, BOOLEAN, STRING, "
    "VARCHAR, CHAR, BINARY, DATE, TIMESTAMP, TIMESTAMP_NTZ, VARIANT, ARRAY, MAP, STRUCT)"
)


class _Parser:
    """Recursive descent over the tokens of one type text or column list."""

    def __init__(self, text: str, column: str = "") -> None:
        self.text = text
        self.column = column
        self.tokens = tokenize(text, column)
        self.index = 0
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
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

    def fail(self, reason: str, path: str, token: Token | None = None) -> None:
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
                self.fail(too_deep_reason(), path, self.peek())
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
        check_unique_names([f.name for f in fields], path)
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
        check_unique_names([c.name for c in columns], "")
        return columns

    def end(self, path: str) -> None:
        token = self.next()
        if token.kind != "end":
            self.fail(f"unexpected {token.text!r} after the type", path, token)


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
