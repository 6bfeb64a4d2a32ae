"""Internal: A table's Arrow schema: the one Arrow Flight ingestion accepts and the Delta table stores.

The type contract (docs/PROTOCOL.md sections 7 and 9) as a table: DATE is date32 (days),
TIMESTAMP timestamp[us, tz=UTC], TIMESTAMP_NTZ timestamp[us], DECIMAL(p,s) decimal128(p,s),
the string family string, BINARY binary, VARIANT string (JSON text), ARRAY/MAP/STRUCT nested.
NOT NULL columns, struct members and array elements without nulls are non-nullable fields.

pyarrow is optional for the toolkit: it is imported when a schema is asked for, so the rest of
the schema core imports without it.
"""

from __future__ import annotations

from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.schema.delta_types_table import DELTA_TYPES, parametric_type
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    PrimitiveType,
    StringType,
    StructType,
    TableSchema,
)

__all__ = ["ARRAY_ELEMENT_NAME", "arrow_schema", "arrow_schema_bytes", "arrow_type", "require_pyarrow"]

# Delta (Parquet) names an array's element field "element"; pyarrow's default is "item".
ARRAY_ELEMENT_NAME = "element"


def require_pyarrow() -> Any:
    """The `pyarrow` module, or a `ConfigurationError` saying how to install it."""
    try:
        import pyarrow
    except ImportError as error:
        raise ConfigurationError(
            "Arrow schemas need pyarrow, which is not installed: pip install 'zerobus-toolkit[arrow]'",
            cause=error,
        ) from error
    return pyarrow


def arrow_type(data_type: DataType) -> Any:
    """The Arrow type of a Delta type (a `pyarrow.DataType`)."""
    pa = require_pyarrow()
    return _arrow_type(pa, data_type)


def _arrow_type(pa: Any, data_type: DataType) -> Any:
    if isinstance(data_type, PrimitiveType):
        factory, arguments = DELTA_TYPES[data_type.primitive].arrow
        return getattr(pa, factory)(*arguments)
    if isinstance(data_type, StringType):
        return getattr(pa, parametric_type(data_type).arrow_factory)()
    if isinstance(data_type, DecimalType):
        return getattr(pa, parametric_type(data_type).arrow_factory)(data_type.precision, data_type.scale)
    if isinstance(data_type, ArrayType):
        element = pa.field(
            ARRAY_ELEMENT_NAME, _arrow_type(pa, data_type.element), nullable=data_type.contains_null
        )
        return pa.list_(element)
    if isinstance(data_type, MapType):
        value = pa.field("value", _arrow_type(pa, data_type.value), nullable=data_type.value_contains_null)
        return pa.map_(_arrow_type(pa, data_type.key), value)
    assert isinstance(data_type, StructType)
    return pa.struct(
        [pa.field(f.name, _arrow_type(pa, f.type), nullable=f.nullable) for f in data_type.fields]
    )


def arrow_schema(schema: TableSchema) -> Any:
    """The table's `pyarrow.Schema`, columns in table order; NOT NULL columns non-nullable."""
    pa = require_pyarrow()
    return pa.schema([pa.field(c.name, _arrow_type(pa, c.type), nullable=c.nullable) for c in schema.columns])


def arrow_schema_bytes(schema: TableSchema) -> bytes:
    """The Arrow schema as an IPC schema message (``pyarrow.ipc.read_schema`` reads it back)."""
    data: bytes = arrow_schema(schema).serialize().to_pybytes()
    return data
