"""Internal: Arrow batches a table accepts, and the same data in the table's exact Arrow schema.

`check_batch` refuses what the Delta table could not hold, column by column and without a
Python loop over rows (VARIANT aside, whose JSON text is parsed): invalid data (bad UTF-8,
decimals beyond their precision, broken offsets: `validate(full=True)`), nulls in NOT NULL
columns, struct members or arrays without null elements, and DATE/TIMESTAMP values outside
years 1-9999 (as for records). The error names the row, the column path, the value and why.

`conform` turns a batch whose schema passed `check_arrow_schema` into the table's schema:
columns in table order under the table's names, left-out nullable columns as nulls, and the
64-bit-offset layouts and other child names cast to the table's. It reuses the buffers where
the types already agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.schema.arrow_types import arrow_schema
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import ArrayType, DataType, MapType, Primitive, PrimitiveType, StructType, TableSchema
from zerobus.schema.unicode_text import json_text_problem
from zerobus.server.validation.arrow_schema_check import field_index

__all__ = ["BatchRejected", "check_batch", "conform"]

RowOf = Callable[[int], int]  # position in an array -> row of the batch


class BatchRejected(Exception):
    """A batch the table cannot take: `row` (0-based, in the batch) and the `error`."""

    def __init__(self, row: int, error: InvalidRecordError) -> None:
        super().__init__(f"row {row}: {error}")
        self.row = row
        self.error = error


def check_batch(schema: TableSchema, batch: Any) -> None:
    """Raise `BatchRejected` unless every row of `batch` (schema already checked) fits the table."""
    try:
        batch.validate(full=True)
    except Exception as error:  # pyarrow.ArrowInvalid: the data contradicts its own type
        raise BatchRejected(0, InvalidRecordError("", None, f"invalid Arrow data: {error}")) from None
    fields = list(batch.schema)
    for column in schema.columns:
        index = field_index(fields, column.name)
        if index is None:
            continue
        _check_array(batch.column(index), column.type, column.nullable, column.name, _identity)


def _identity(position: int) -> int:
    return position


def _check_array(array: Any, data_type: DataType, nullable: bool, path: str, row_of: RowOf) -> None:
    import pyarrow.compute as pc

    if not nullable and array.null_count:
        position = _first_true(array.is_null())
        raise BatchRejected(
            row_of(position), InvalidRecordError(path, None, "NOT NULL, but the value is null")
        )
    if isinstance(data_type, StructType):
        fields = list(array.type)
        children = array.flatten()  # nulls of the struct are nulls of each child too
        for member in data_type.fields:
            index = field_index(fields, member.name)
            if index is None:
                continue
            child = children[index]
            member_path = f"{path}.{member.name}"
            if not member.nullable and child.null_count > array.null_count:
                position = _first_true(pc.and_(child.is_null(), array.is_valid()))
                raise BatchRejected(
                    row_of(position), InvalidRecordError(member_path, None, "NOT NULL, but the value is null")
                )
            _check_array(child, member.type, True, member_path, row_of)
    elif isinstance(data_type, ArrayType):
        elements = array.flatten()
        _check_array(
            elements,
            data_type.element,
            data_type.contains_null,
            f"{path}.element",
            _parent_rows(array, row_of),
        )
    elif isinstance(data_type, MapType):
        import pyarrow as pa

        # As a list of key/value structs: the list kernels (flatten, parents) do not take maps.
        entry = pa.struct([array.type.key_field, array.type.item_field])
        as_list = array.cast(pa.list_(entry))
        entries = as_list.flatten()
        rows = _parent_rows(as_list, row_of)
        _check_array(entries.field(0), data_type.key, False, f"{path}.key", rows)
        _check_array(entries.field(1), data_type.value, data_type.value_contains_null, f"{path}.value", rows)
    elif isinstance(data_type, PrimitiveType):
        _check_values(array, data_type.primitive, path, row_of)


def _check_values(array: Any, primitive: Primitive, path: str, row_of: RowOf) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    row = DELTA_TYPES[primitive]
    if row.wire_unit is not None and row.wire_range is not None:
        bounds, width = row.wire_range, getattr(pa, row.proto.name)()
        what = f"{row.wire_unit.value} ({primitive.name})"
    elif row.kind is ValueKind.VARIANT:
        for position, text in enumerate(array.to_pylist()):
            problem = None if text is None else json_text_problem(text)
            if problem is not None:
                raise BatchRejected(
                    row_of(position), InvalidRecordError(path, text, f"VARIANT takes JSON text: {problem}")
                )
        return
    else:
        return
    numbers = array.cast(width)
    low, high = bounds
    outside = pc.or_(pc.less(numbers, low), pc.greater(numbers, high))
    if pc.any(outside).as_py():
        position = _first_true(outside)
        raise BatchRejected(
            row_of(position),
            InvalidRecordError(path, numbers[position].as_py(), f"{what} must be within {low}..{high}"),
        )


def _parent_rows(array: Any, row_of: RowOf) -> RowOf:
    """Maps positions in `array.flatten()` to batch rows (the parents are found only on error)."""

    def rows(position: int) -> int:
        import pyarrow.compute as pc

        parents = pc.list_parent_indices(array)
        return row_of(parents[position].as_py())

    return rows


def _first_true(mask: Any) -> int:
    import pyarrow.compute as pc

    position: int = pc.index(mask.fill_null(False), True).as_py()
    return position


# --- conform -------------------------------------------------------------------------------------


def conform(schema: TableSchema, table: Any) -> Any:
    """`table` (a pyarrow Table or RecordBatch that passed the checks) in the table's exact schema."""
    import pyarrow as pa

    target = arrow_schema(schema)
    if table.schema.equals(target):
        return table
    fields = list(table.schema)
    columns = []
    for column, target_field in zip(schema.columns, target, strict=True):
        index = field_index(fields, column.name)
        if index is None:
            columns.append(pa.nulls(table.num_rows, target_field.type))
        else:
            columns.append(_conform_column(table.column(index), column.type, target_field.type))
    return pa.Table.from_arrays(columns, schema=target)


def _conform_column(column: Any, data_type: DataType, target: Any) -> Any:
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        chunks = [_conform_array(chunk, data_type, target) for chunk in column.chunks]
        return pa.chunked_array(chunks, type=target)
    return _conform_array(column, data_type, target)


def _conform_array(array: Any, data_type: DataType, target: Any) -> Any:
    import pyarrow as pa

    if array.type.equals(target):
        return array
    mask = array.is_null() if array.null_count else None
    if isinstance(data_type, StructType):
        fields = list(array.type)
        children = []
        for member, target_field in zip(data_type.fields, target, strict=True):
            index = field_index(fields, member.name)
            if index is None:
                children.append(pa.nulls(len(array), target_field.type))
            else:
                children.append(_conform_array(array.field(index), member.type, target_field.type))
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if isinstance(data_type, ArrayType):
        values = _conform_array(array.values, data_type.element, target.value_type)
        offsets = array.offsets.cast(pa.int32())
        return pa.ListArray.from_arrays(offsets, values, type=target, mask=mask)
    if isinstance(data_type, MapType):
        keys = _conform_array(array.keys, data_type.key, target.key_type)
        items = _conform_array(array.items, data_type.value, target.item_type)
        return pa.MapArray.from_arrays(array.offsets, keys, items, type=target, mask=mask)
    return array.cast(target)
