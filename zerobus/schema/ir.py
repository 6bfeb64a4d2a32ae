"""Internal: Schema IR: the one description of a table that every output is rendered from.

A `TableSchema` holds `Column`s; each column has a `DataType`: a `PrimitiveType` (one of
`Primitive`), a `DecimalType`, a `StringType` (STRING, VARCHAR(n), CHAR(n)), or the nested
`ArrayType`, `MapType` and `StructType`. The objects are frozen and hashable, and render
themselves back to Unity Catalog's spellings (`type_text`, `type_name`, `type_json`), so the
local server's catalog, the proto emitter, the descriptor builder and the Pydantic emitter all
agree by construction.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ArrayType",
    "Column",
    "DataType",
    "DecimalType",
    "MapType",
    "Primitive",
    "PrimitiveType",
    "StringType",
    "StructField",
    "StructType",
    "TableSchema",
    "quote_identifier",
]


class Primitive(enum.Enum):
    """Scalar Delta types other than DECIMAL and the string family.

    The value is (type_text, UC type_name, Spark JSON name).
    """

    TINYINT = ("tinyint", "BYTE", "byte")
    SMALLINT = ("smallint", "SHORT", "short")
    INT = ("int", "INT", "integer")
    BIGINT = ("bigint", "LONG", "long")
    FLOAT = ("float", "FLOAT", "float")
    DOUBLE = ("double", "DOUBLE", "double")
    BOOLEAN = ("boolean", "BOOLEAN", "boolean")
    BINARY = ("binary", "BINARY", "binary")
    DATE = ("date", "DATE", "date")
    TIMESTAMP = ("timestamp", "TIMESTAMP", "timestamp")
    TIMESTAMP_NTZ = ("timestamp_ntz", "TIMESTAMP_NTZ", "timestamp_ntz")
    VARIANT = ("variant", "VARIANT", "variant")

    @property
    def type_text(self) -> str:
        return self.value[0]

    @property
    def type_name(self) -> str:
        return self.value[1]

    @property
    def json_name(self) -> str:
        return self.value[2]


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_identifier(name: str) -> str:
    """A column or field name as it must be written in type text (back-quoted when needed)."""
    if _IDENTIFIER.match(name):
        return name
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class PrimitiveType:
    primitive: Primitive

    @property
    def type_text(self) -> str:
        return self.primitive.type_text

    @property
    def type_name(self) -> str:
        return self.primitive.type_name

    def spark_json(self) -> Any:
        return self.primitive.json_name


@dataclass(frozen=True)
class DecimalType:
    precision: int = 10
    scale: int = 0

    @property
    def type_text(self) -> str:
        return f"decimal({self.precision},{self.scale})"

    @property
    def type_name(self) -> str:
        return "DECIMAL"

    def spark_json(self) -> Any:
        return self.type_text


@dataclass(frozen=True)
class StringType:
    """STRING, or VARCHAR(n) / CHAR(n) when `kind` says so (both carry `length`)."""

    kind: str = "string"  # "string" | "varchar" | "char"
    length: int | None = None

    @property
    def type_text(self) -> str:
        return self.kind if self.length is None else f"{self.kind}({self.length})"

    @property
    def type_name(self) -> str:
        return "CHAR" if self.kind == "char" else "STRING"

    def spark_json(self) -> Any:
        # Spark stores VARCHAR/CHAR as string with the original type in the field metadata.
        return "string"


@dataclass(frozen=True)
class ArrayType:
    element: DataType
    contains_null: bool = True

    @property
    def type_text(self) -> str:
        return f"array<{self.element.type_text}>"

    @property
    def type_name(self) -> str:
        return "ARRAY"

    def spark_json(self) -> Any:
        return {"type": "array", "elementType": self.element.spark_json(), "containsNull": self.contains_null}


@dataclass(frozen=True)
class MapType:
    key: DataType
    value: DataType
    value_contains_null: bool = True

    @property
    def type_text(self) -> str:
        return f"map<{self.key.type_text},{self.value.type_text}>"

    @property
    def type_name(self) -> str:
        return "MAP"

    def spark_json(self) -> Any:
        return {
            "type": "map",
            "keyType": self.key.spark_json(),
            "valueType": self.value.spark_json(),
            "valueContainsNull": self.value_contains_null,
        }


@dataclass(frozen=True)
class StructField:
    name: str
    type: DataType
    nullable: bool = True
    comment: str | None = None

    @property
    def type_text(self) -> str:
        text = f"{quote_identifier(self.name)}:{self.type.type_text}"
        if not self.nullable:
            text += " not null"
        if self.comment is not None:
            text += " comment '" + self.comment.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return text

    def spark_json(self) -> dict[str, Any]:
        """Spark's StructField JSON (what UC returns as a column's `type_json`)."""
        metadata: dict[str, Any] = {}
        if self.comment is not None:
            metadata["comment"] = self.comment
        if _has_char_varchar(self.type):
            # Like Spark: the JSON type says "string"; the metadata keeps the declared type text.
            metadata["__CHAR_VARCHAR_TYPE_STRING"] = self.type.type_text
        return {
            "name": self.name,
            "type": self.type.spark_json(),
            "nullable": self.nullable,
            "metadata": metadata,
        }


@dataclass(frozen=True)
class StructType:
    fields: tuple[StructField, ...]

    @property
    def type_text(self) -> str:
        return "struct<" + ",".join(f.type_text for f in self.fields) + ">"

    @property
    def type_name(self) -> str:
        return "STRUCT"

    def spark_json(self) -> Any:
        return {"type": "struct", "fields": [f.spark_json() for f in self.fields]}


DataType = PrimitiveType | DecimalType | StringType | ArrayType | MapType | StructType


def _has_char_varchar(data_type: DataType) -> bool:
    """Whether VARCHAR(n)/CHAR(n) occurs anywhere in the type (Spark's JSON drops the length)."""
    if isinstance(data_type, StringType):
        return data_type.length is not None
    if isinstance(data_type, ArrayType):
        return _has_char_varchar(data_type.element)
    if isinstance(data_type, MapType):
        return _has_char_varchar(data_type.key) or _has_char_varchar(data_type.value)
    if isinstance(data_type, StructType):
        return any(_has_char_varchar(f.type) for f in data_type.fields)
    return False


@dataclass(frozen=True)
class Column:
    """A top-level column: a struct field with a position (0-based, column order)."""

    name: str
    type: DataType
    nullable: bool = True
    comment: str | None = None
    position: int = 0

    def as_field(self) -> StructField:
        return StructField(self.name, self.type, self.nullable, self.comment)

    def to_uc_json(self) -> dict[str, Any]:
        """The column as Unity Catalog's tables API returns it (docs/PROTOCOL.md section 6)."""
        column: dict[str, Any] = {
            "name": self.name,
            "type_text": self.type.type_text,
            "type_name": self.type.type_name,
            "type_json": _compact_json(self.as_field().spark_json()),
            "position": self.position,
            "nullable": self.nullable,
        }
        if isinstance(self.type, DecimalType):
            column["type_precision"] = self.type.precision
            column["type_scale"] = self.type.scale
        if self.comment is not None:
            column["comment"] = self.comment
        return column


@dataclass(frozen=True)
class TableSchema:
    """A table: its full name (`catalog.schema.table`, or just a name for DDL input) and columns."""

    name: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    comment: str | None = None

    @property
    def short_name(self) -> str:
        """The last dot-separated part: the default proto message name."""
        return self.name.rsplit(".", 1)[-1]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def as_struct(self) -> StructType:
        return StructType(tuple(column.as_field() for column in self.columns))

    def arrow_schema(self) -> Any:
        """The `pyarrow.Schema` Arrow Flight ingestion accepts for this table (needs pyarrow)."""
        from zerobus.schema.arrow_types import arrow_schema

        return arrow_schema(self)

    def avro_schema(self, record_name: str | None = None) -> str:
        """The Avro writer schema (JSON text) AVRO streams send: `TableProperties(table, avro_schema=...)`."""
        from zerobus.schema.avro_types import avro_schema_text

        return avro_schema_text(self, record_name)

    def ddl(self) -> str:
        """The columns as a DDL list, e.g. ``id bigint not null, tags array<string>``."""
        parts = []
        for column in self.columns:
            text = f"{quote_identifier(column.name)} {column.type.type_text}"
            if not column.nullable:
                text += " not null"
            if column.comment is not None:
                text += " comment '" + column.comment.replace("\\", "\\\\").replace("'", "\\'") + "'"
            parts.append(text)
        return ", ".join(parts)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
