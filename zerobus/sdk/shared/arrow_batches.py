"""Internal: What `ingest_batch` is given -> record batches of the stream's schema, each under the request limit.

Accepted: a `pyarrow.RecordBatch` or `Table`, or anything exporting the Arrow PyCapsule
interface (``__arrow_c_stream__`` / ``__arrow_c_array__``: polars and pandas DataFrames), read
column-wise by pyarrow with no Python per row. Its schema is checked against the stream's
before anything is sent: every refusal names the column, the expected and the given type, or
the missing / unexpected column, or the first row holding a null in a NOT NULL column.

Accepted without a word: columns in another order, and the other layouts of the same data
(``large_string``, ``string_view``, ``large_list``, ...), converted to the stream's types; a
column whose field is nullable may be left out (every row is null there). Integers of another
width, decimals of another precision or scale and timestamps of another unit (both with a time
zone, or both without) are converted when every value fits exactly (a timestamp with
nanoseconds into microseconds does not); otherwise the refusal names the column.
"""

from __future__ import annotations

import pyarrow as pa

from zerobus.errors import InvalidRecordError, SchemaError
from zerobus.protocol.constants import MAX_REQUEST_BYTES

__all__ = ["REQUEST_BUDGET", "conform", "split_to_fit"]

# The service refuses a request over 10 MiB; the FlightData framing and `{"offset_id": N}` add a
# few dozen bytes to the IPC message, which this margin covers.
REQUEST_BUDGET = MAX_REQUEST_BYTES - 4096


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly `schema`'s columns and types, or a precise refusal (nothing is sent)."""
    if table.schema.equals(schema, check_metadata=True):
        # Already the stream's columns and types: only the NOT NULL columns need a look.
        for position, field in enumerate(schema):
            if not field.nullable:
                _refuse_nulls(table.column(position), field)
        return table
    given = {field.name: index for index, field in enumerate(table.schema)}
    unexpected = [name for name in given if schema.get_field_index(name) < 0]
    if unexpected:
        raise SchemaError(
            f"the batch has a column the stream's schema does not: {unexpected[0]!r} "
            f"(the stream's columns: {', '.join(schema.names)})",
            unexpected[0],
        )
    columns = []
    for field in schema:
        index = given.get(field.name)
        if index is None:
            if not field.nullable:
                raise SchemaError(
                    f"the batch lacks the column {field.name!r}, which is NOT NULL ({field.type})", field.name
                )
            columns.append(pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(index)
        if not column.type.equals(field.type):
            column = _converted(column, field)
        if not field.nullable:
            _refuse_nulls(column, field)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _converted(column: pa.ChunkedArray, field: pa.Field) -> pa.ChunkedArray:
    expected, actual = field.type, column.type
    same_data = _plain(actual).equals(_plain(expected))
    both_integers = pa.types.is_integer(actual) and pa.types.is_integer(expected)
    both_decimals = pa.types.is_decimal(actual) and pa.types.is_decimal(expected)
    # Another unit of the same kind of timestamp (an instant, or a wall-clock time).
    same_clock = (
        pa.types.is_timestamp(actual)
        and pa.types.is_timestamp(expected)
        and (actual.tz is None) == (expected.tz is None)
    )
    if not (same_data or both_integers or both_decimals or same_clock or pa.types.is_null(actual)):
        raise SchemaError(f"expected Arrow type {expected}, given {actual}", field.name)
    try:
        return column.cast(expected, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise InvalidRecordError(
            field.name, str(actual), f"does not convert to {expected} without changing a value: {error}"
        ) from error


def _plain(data_type: pa.DataType) -> pa.DataType:
    """The type with every alternative layout (large, view) replaced by the plain one."""
    if pa.types.is_large_string(data_type) or pa.types.is_string_view(data_type):
        return pa.string()
    if pa.types.is_large_binary(data_type) or pa.types.is_binary_view(data_type):
        return pa.binary()
    if pa.types.is_large_list(data_type) or pa.types.is_list_view(data_type) or pa.types.is_list(data_type):
        return pa.list_(_plain_field(data_type.value_field))
    if pa.types.is_map(data_type):
        return pa.map_(_plain_field(data_type.key_field), _plain_field(data_type.item_field))
    if pa.types.is_struct(data_type):
        members = [data_type.field(i) for i in range(data_type.num_fields)]
        return pa.struct([pa.field(member.name, _plain(member.type)) for member in members])
    return data_type


def _plain_field(field: pa.Field) -> pa.Field:
    # Child names and nullability flags are layout, not data (Delta calls list items "element").
    return pa.field("item", _plain(field.type))


def _refuse_nulls(column: pa.ChunkedArray, field: pa.Field) -> None:
    if column.null_count:
        row = _first_null_row(column)
        raise InvalidRecordError(field.name, None, f"row {row} is null, but the column is NOT NULL")


def _first_null_row(column: pa.ChunkedArray) -> int:
    base = 0
    for chunk in column.chunks:
        if chunk.null_count:
            valid = chunk.is_valid().to_numpy(zero_copy_only=False)
            return base + int((~valid).argmax())
        base += len(chunk)
    return -1


def split_to_fit(
    batch: pa.RecordBatch, budget: int = REQUEST_BUDGET, first_row: int = 0
) -> list[pa.RecordBatch]:
    """`batch` cut into consecutive slices whose IPC message each fits `budget` bytes.

    A single row larger than the budget cannot be sent at all: refused, naming its row.
    """
    size = pa.ipc.get_record_batch_size(batch)
    if size <= budget:
        return [batch]
    if batch.num_rows == 1:
        raise InvalidRecordError(
            "",
            f"row {first_row}",
            f"row {first_row} alone is {size} bytes in Arrow IPC; a request holds at most 10 MiB "
            f"(10485760 bytes), so this row can never be sent",
        )
    rows = batch.num_rows
    per_slice = max(1, min(rows // 2, int(rows * budget / size)))
    pieces: list[pa.RecordBatch] = []
    for start in range(0, rows, per_slice):
        pieces.extend(split_to_fit(batch.slice(start, per_slice), budget, first_row + start))
    return pieces
