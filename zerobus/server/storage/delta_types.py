"""Internal: Delta column types as Arrow types (what the materializer writes and `deltalake` reads back).

The mapping itself is the schema core's (`zerobus.schema.arrow_types`), shared with Arrow
Flight ingestion: DATE is date32, TIMESTAMP timestamp[us, UTC], TIMESTAMP_NTZ timestamp[us],
DECIMAL(p,s) decimal128(p,s), BINARY binary, ARRAY/MAP/STRUCT nested. VARIANT is written as a string column
holding the JSON text: `deltalake` cannot write the Delta variant type.

`arrow_row_converter` prepares wire rows for `pyarrow.Table.from_pylist`: Arrow takes most wire
values as they are (day counts for date32, microseconds for timestamps), so only the columns
that need it (DECIMAL text, base64 BINARY in JSON, JSON map keys) are converted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerobus.schema.arrow_types import arrow_schema, arrow_type
from zerobus.schema.delta_types_table import DELTA_TYPES, JsonForm
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    PrimitiveType,
    StringType,
    TableSchema,
)
from zerobus.schema.wire_to_python import from_wire

__all__ = ["arrow_row_converter", "arrow_schema", "arrow_type"]

RowConverter = Callable[[dict[str, Any]], dict[str, Any]]


def arrow_row_converter(schema: TableSchema, json_mode: bool) -> RowConverter | None:
    """Wire row -> a row `from_pylist` takes for `arrow_schema(schema)`; None if rows go as they are.

    Missing keys are nulls to `from_pylist`, like None values.
    """
    converters = {
        c.name: from_wire(c.type, json_mode)
        for c in schema.columns
        if not _arrow_takes_wire(c.type, json_mode)
    }
    if not converters:
        return None

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        out = dict(row)
        for name, convert_value in converters.items():
            value = out.get(name)
            if value is not None:
                out[name] = convert_value(value)
        return out

    return convert


def _arrow_takes_wire(data_type: DataType, json_mode: bool) -> bool:
    """Whether Arrow reads the wire value of `data_type` as the same value `from_wire` gives."""
    if isinstance(data_type, PrimitiveType):
        # Arrow reads every wire value as it is, except base64 text in JSON records.
        return not (json_mode and DELTA_TYPES[data_type.primitive].json_form is JsonForm.BASE64)
    if isinstance(data_type, StringType):
        return True
    if isinstance(data_type, DecimalType):
        return False  # decimal text
    if isinstance(data_type, ArrayType):
        return _arrow_takes_wire(data_type.element, json_mode)
    if isinstance(data_type, MapType):
        keys_as_is = not json_mode or isinstance(data_type.key, StringType)  # JSON keys are text
        return (
            keys_as_is
            and _arrow_takes_wire(data_type.key, json_mode)
            and _arrow_takes_wire(data_type.value, json_mode)
        )
    return all(_arrow_takes_wire(f.type, json_mode) for f in data_type.fields)
