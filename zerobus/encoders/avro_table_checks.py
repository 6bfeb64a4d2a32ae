"""Internal: Checks an Avro writer schema cannot express, made client-side when the stream knows its table.

Avro has no 8- or 16-bit integers and no string lengths, so TINYINT/SMALLINT ranges and
VARCHAR(n)/CHAR(n) lengths travel as plain `int` and `string`. When the writer schema was derived
from the table (`TableSchema.avro_schema()` inside `create_stream`), the SDK knows the Delta types
and refuses such values at the ingest call, as it does for the other record formats, instead of
letting the server fail the stream. Runs on the datum `avro_values` produced (Avro field names are
the column names there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    MapType,
    PrimitiveType,
    StringType,
    StructType,
    TableSchema,
)
from zerobus.schema.typemap import INT_RANGES

__all__ = ["table_datum_check"]

Check = Callable[[Any, str], None]


def _value_check(data_type: DataType) -> Check | None:
    # Avro int is exactly INT and long exactly BIGINT: only the narrower integers need a range check.
    row = DELTA_TYPES[data_type.primitive] if isinstance(data_type, PrimitiveType) else None
    if row is not None and row.kind is ValueKind.INTEGER and row.range_checked:
        low, high = INT_RANGES[row.primitive]
        name = row.name

        def check_range(value: Any, path: str) -> None:
            if not low <= value <= high:
                raise InvalidRecordError(path, value, f"out of range for {name} [{low}, {high}]")

        return check_range
    if isinstance(data_type, StringType) and data_type.length is not None:
        length, text = data_type.length, data_type.type_text

        def check_length(value: Any, path: str) -> None:
            if len(value) > length:
                raise InvalidRecordError(path, value, f"longer than {text} allows ({len(value)} > {length})")

        return check_length
    if isinstance(data_type, ArrayType):
        element = _value_check(data_type.element)
        if element is None:
            return None
        item_check = element

        def check_items(value: Any, path: str) -> None:
            for index, item in enumerate(value):
                item_check(item, f"{path}[{index}]")

        return check_items
    if isinstance(data_type, MapType):
        values = _value_check(data_type.value)
        if values is None:
            return None
        value_check = values

        def check_values(value: Any, path: str) -> None:
            for key, item in value.items():
                value_check(item, f"{path}[{key!r}]")

        return check_values
    if isinstance(data_type, StructType):
        return _fields_check(data_type)
    return None


def _fields_check(struct: StructType) -> Check | None:
    checks = [(f.name, check) for f in struct.fields if (check := _value_check(f.type)) is not None]
    if not checks:
        return None

    def check_fields(value: Any, path: str) -> None:
        for name, check in checks:
            item = value.get(name)
            if isinstance(item, tuple):  # a union value the encoder tagged with its branch
                item = item[1]
            if item is not None:
                check(item, f"{path}.{name}" if path else name)

    return check_fields


def table_datum_check(schema: TableSchema) -> Callable[[dict[str, Any]], None] | None:
    """The check of a converted datum against `schema`, or None when no column needs one."""
    check = _fields_check(schema.as_struct())
    if check is None:
        return None
    fields_check = check

    def check_datum(datum: dict[str, Any]) -> None:
        fields_check(datum, "")

    return check_datum
