"""Delta column types as Arrow types (what the materializer writes and `deltalake` reads back).

DATE is date32, TIMESTAMP timestamp[us, UTC], TIMESTAMP_NTZ timestamp[us] (no zone), DECIMAL(p,s)
decimal128(p,s), BINARY binary, ARRAY/MAP/STRUCT nested. VARIANT is written as a string column
holding the JSON text: `deltalake` cannot write the Delta variant type.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from zerobus.codegen.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructType,
    TableSchema,
)

__all__ = ["arrow_schema", "arrow_type"]

_PRIMITIVES: dict[Primitive, Any] = {
    Primitive.TINYINT: pa.int8(),
    Primitive.SMALLINT: pa.int16(),
    Primitive.INT: pa.int32(),
    Primitive.BIGINT: pa.int64(),
    Primitive.FLOAT: pa.float32(),
    Primitive.DOUBLE: pa.float64(),
    Primitive.BOOLEAN: pa.bool_(),
    Primitive.BINARY: pa.binary(),
    Primitive.DATE: pa.date32(),
    Primitive.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Primitive.TIMESTAMP_NTZ: pa.timestamp("us"),
    Primitive.VARIANT: pa.string(),
}


def arrow_type(data_type: DataType) -> Any:
    """The Arrow type a Delta column of `data_type` is stored as."""
    if isinstance(data_type, PrimitiveType):
        return _PRIMITIVES[data_type.primitive]
    if isinstance(data_type, StringType):
        return pa.string()
    if isinstance(data_type, DecimalType):
        return pa.decimal128(data_type.precision, data_type.scale)
    if isinstance(data_type, ArrayType):
        return pa.list_(pa.field("element", arrow_type(data_type.element), nullable=data_type.contains_null))
    if isinstance(data_type, MapType):
        return pa.map_(arrow_type(data_type.key), arrow_type(data_type.value))
    assert isinstance(data_type, StructType)
    return pa.struct([pa.field(f.name, arrow_type(f.type), nullable=f.nullable) for f in data_type.fields])


def arrow_schema(schema: TableSchema) -> Any:
    """The table's Arrow schema; NOT NULL columns are non-nullable fields."""
    return pa.schema([pa.field(c.name, arrow_type(c.type), nullable=c.nullable) for c in schema.columns])
