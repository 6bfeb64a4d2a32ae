"""Internal: Spark data to the SDK's dict records, the fastest way each input allows.

Arrow batches are converted column by column: TIMESTAMP and DATE columns become their wire
integers (microseconds, days) inside pyarrow, so no datetime object is made per value, and the
SDK's dict encoder passes them through as they are. Rows (the fallback when the installed
pyspark has no Arrow writer) are converted value by value; Spark gives their TIMESTAMP values as
naive datetimes in the worker's local time, which are made aware here so that no timestamp is
shifted by the worker's time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.schema.delta_types_table import DELTA_TYPES, WireUnit
from zerobus.schema.ir import PrimitiveType, TableSchema

__all__ = ["arrow_batch_records", "row_converter", "rows_in_chunks"]

Record = dict[str, Any]


def _column_units(schema: TableSchema | None) -> dict[str, WireUnit]:
    """The columns whose wire values are counts (DATE days, timestamp microseconds), by name."""
    if schema is None:
        return {}
    units = {}
    for column in schema.columns:
        if isinstance(column.type, PrimitiveType):
            unit = DELTA_TYPES[column.type.primitive].wire_unit
            if unit is not None:
                units[column.name] = unit
    return units


def arrow_batch_records(batch: Any, schema: TableSchema | None) -> list[Record]:
    """The rows of a pyarrow `RecordBatch` as dicts for the table `schema` describes.

    A timestamp column bound for a TIMESTAMP / TIMESTAMP_NTZ column becomes int64 microseconds
    and a date32 column bound for a DATE column int32 days (the stream is told those units);
    anything else keeps its Python value, so a column that does not fit the table reaches the
    SDK as the user wrote it and the SDK's error shows that value.
    """
    import pyarrow as pa

    names = tuple(batch.schema.names)
    if not names:
        return [{} for _ in range(batch.num_rows)]
    units = _column_units(schema)
    columns: list[list[Any]] = []
    for name, column in zip(names, batch.columns, strict=True):
        target = units.get(name)
        wire = column
        if target is WireUnit.MICROS and pa.types.is_timestamp(column.type):
            wire = column.cast(pa.timestamp("us", column.type.tz)).cast(pa.int64())
        elif target is WireUnit.DAYS and pa.types.is_date32(column.type):
            wire = column.cast(pa.int32())
        if _has_map(wire.type):
            columns.append(wire.to_pylist(maps_as_pydicts="strict"))
        else:  # the keyword alone sends pyarrow down a slower path
            columns.append(wire.to_pylist())
    return list(map(_record_builder(names), *columns))


def _has_map(data_type: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_map(data_type):
        return True
    return any(_has_map(data_type.field(i).type) for i in range(data_type.num_fields))


@functools.lru_cache(maxsize=64)
def _record_builder(names: tuple[str, ...]) -> Callable[..., Record]:
    """A function of one value per column returning the record dict, compiled for these names.

    A dict display with the names as constants builds a record in about half the time of
    ``dict(zip(names, values))``; the names enter the source only as `repr()` literals.
    """
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(
            f"zerobus data source: the DataFrame has duplicate column names {duplicates}; "
            "rename them (each column is a field of the record)"
        )
    parameters = ", ".join(f"_{i}" for i in range(len(names)))
    entries = ", ".join(f"{name!r}: _{i}" for i, name in enumerate(names))
    build: Callable[..., Record] = eval(compile(f"lambda {parameters}: {{{entries}}}", "<record>", "eval"))
    return build


def row_converter(spark_schema: Any) -> Callable[[Any], Record]:
    """Row -> dict for rows of the Spark `StructType` `spark_schema` (nested rows become dicts)."""
    return _struct_converter(spark_schema)


def rows_in_chunks(
    rows: Iterable[Any], convert: Callable[[Any], Record], size: int
) -> Iterator[list[Record]]:
    """Converted rows, `size` at a time."""
    chunk: list[Record] = []
    for row in rows:
        chunk.append(convert(row))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _identity(value: Any) -> Any:
    return value


def _aware_timestamp(value: Any) -> Any:
    # A naive datetime from Spark's TIMESTAMP is local wall time: astimezone() reads it as such.
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.astimezone(dt.timezone.utc)
    return value


def _converter(data_type: Any) -> Callable[[Any], Any] | None:
    """A value converter for a Spark type, or None when values pass as they are."""
    from pyspark.sql import types as t

    if isinstance(data_type, t.TimestampType):
        return _aware_timestamp
    if isinstance(data_type, t.StructType):
        return _struct_converter(data_type)
    if isinstance(data_type, t.ArrayType):
        element = _converter(data_type.elementType) or _identity
        return lambda values: None if values is None else [element(v) for v in values]
    if isinstance(data_type, t.MapType):
        key = _converter(data_type.keyType) or _identity
        value = _converter(data_type.valueType) or _identity
        return lambda items: None if items is None else {key(k): value(v) for k, v in items.items()}
    return None


def _struct_converter(struct: Any) -> Callable[[Any], Record]:
    names = tuple(field.name for field in struct.fields)
    converters = tuple((i, c) for i, field in enumerate(struct.fields) if (c := _converter(field.dataType)))

    def to_dict(row: Any) -> Any:
        if row is None:
            return None
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        return dict(zip(names, values, strict=True))

    return to_dict
