"""Internal: Parquet rows, a record batch at a time (never the whole file), converted column-wise by Arrow.

Row numbers count from 1 in file order. Columns are matched to the table by name
(`match_columns`) and turned into Python values by Arrow in one pass per batch
(`RecordBatch.to_pylist`), after the few column-wise preparations that keep values exact:

- An Arrow timestamp becomes the integer microseconds the wire carries when the stream will
  read integers as microseconds (`--timestamp-unit us`, or no unit and every value of the
  batch inside the range the automatic check accepts); otherwise it stays a `datetime`.
  Nanoseconds below a microsecond would be lost: such a row is refused, not rounded.
- A timestamp with a time zone (an instant) fills TIMESTAMP, one without (a wall-clock time)
  fills TIMESTAMP_NTZ; the other way round the file is refused up front, naming the column.
- Dates become day counts; maps become dicts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zerobus.ingest.batch import RowBatch
from zerobus.ingest.columns import match_columns
from zerobus.ingest.errors import InputFileError
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import Column, PrimitiveType, TableSchema
from zerobus.schema.time_units import MILLIS_BELOW, NANOS_FROM, TimestampUnit

__all__ = ["parquet_row_count", "read_parquet"]


def _open(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as error:
        raise InputFileError(path, f"not readable as Parquet: {error}") from error


def parquet_row_count(path: str) -> int:
    """How many rows the file holds, from its footer."""
    return int(_open(path).metadata.num_rows)


def _check_time_zone(path: str, column: Column, arrow_type: Any) -> None:
    import pyarrow as pa

    if not isinstance(column.type, PrimitiveType):
        return
    row = DELTA_TYPES[column.type.primitive]
    if row.kind is not ValueKind.TIMESTAMP or not pa.types.is_timestamp(arrow_type):
        return
    aware = arrow_type.tz is not None
    if row.timezone_aware and not aware:
        raise InputFileError(
            path,
            f"column {column.name!r} holds timestamps without a time zone (wall-clock times) and the "
            "table's column is TIMESTAMP (an instant): write the file with a time zone (e.g. UTC), "
            "or make the column TIMESTAMP_NTZ",
        )
    if not row.timezone_aware and aware:
        raise InputFileError(
            path,
            f"column {column.name!r} holds timestamps with a time zone (instants) and the table's "
            "column is TIMESTAMP_NTZ (a wall-clock time): write the file without a time zone",
        )


class _TimestampColumn:
    """Prepares one Arrow timestamp column of a batch: microseconds, rows that would lose precision."""

    def __init__(self, index: int, unit: TimestampUnit | None) -> None:
        self.index = index
        self.unit = unit

    def prepare(self, array: Any) -> tuple[Any, list[int]]:
        """The column as the SDK should get it, and the batch positions of rows to refuse."""
        import pyarrow as pa
        import pyarrow.compute as pc

        micros_type = pa.timestamp("us", array.type.tz)
        lossy: list[int] = []
        micros = pc.cast(array, micros_type, safe=array.type.unit != "ns")
        if array.type.unit == "ns":
            # Truncated and back: a value that changed had nanoseconds below a microsecond.
            changed = pc.not_equal(pc.cast(micros, array.type), array)
            lossy = pc.indices_nonzero(pc.fill_null(changed, False)).to_pylist()
        as_int = pc.cast(micros, pa.int64())
        if self.unit == "us" or (self.unit is None and _inside_automatic_range(as_int)):
            return as_int, lossy
        return micros, lossy


def _inside_automatic_range(values: Any) -> bool:
    """Whether every value would pass the SDK's automatic unit check as microseconds."""
    import pyarrow.compute as pc

    magnitudes = pc.abs(values)
    extremes = pc.min_max(magnitudes).as_py()
    low, high = extremes["min"], extremes["max"]
    return low is None or (low >= MILLIS_BELOW and high < NANOS_FROM)


def _raw_row(entry: tuple[Any, int]) -> dict[str, Any]:
    """Row `position` of a record batch as the file held it, for a dead letter (file column names).

    Nanosecond timestamps that no `datetime` can hold are shown as their integer nanoseconds.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    record_batch, position = entry
    row = record_batch.slice(position, 1)
    # Decided here, not by `to_pylist`: with pandas installed it returns pandas Timestamps for
    # such values instead of failing, which would make the dead letter depend on the environment.
    arrays = [pc.cast(a, pa.int64()) if _holds_sub_microseconds(a, pa, pc) else a for a in row.columns]
    values: dict[str, Any] = pa.RecordBatch.from_arrays(arrays, names=row.schema.names).to_pylist(
        maps_as_pydicts="strict"
    )[0]
    return values


def _holds_sub_microseconds(array: Any, pa: Any, pc: Any) -> bool:
    """Whether a timestamp column holds a value with nanoseconds below a microsecond."""
    if not pa.types.is_timestamp(array.type) or array.type.unit != "ns":
        return False
    nanos = pc.cast(array, pa.int64())
    below = pc.not_equal(pc.subtract(nanos, pc.multiply(pc.divide(nanos, 1000), 1000)), 0)
    return bool(pc.any(below).as_py())


def read_parquet(
    path: str, schema: TableSchema, batch: RowBatch, batch_rows: int, timestamp_unit: TimestampUnit | None
) -> Iterator[None]:
    """Fill `batch` from the Parquet file at `path`, one `batch_rows`-row record batch at a time."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parquet = _open(path)
    arrow_schema = parquet.schema_arrow
    columns = match_columns(path, arrow_schema.names, schema)
    for column, arrow_field in zip(columns, arrow_schema, strict=True):
        _check_time_zone(path, column, arrow_field.type)
    names = [column.name for column in columns]
    timestamps = [
        _TimestampColumn(index, timestamp_unit)
        for index, arrow_field in enumerate(arrow_schema)
        if pa.types.is_timestamp(arrow_field.type)
    ]
    dates = [index for index, arrow_field in enumerate(arrow_schema) if pa.types.is_date(arrow_field.type)]
    batch.raw_form = _raw_row
    records, numbers, raws = batch.records, batch.numbers, batch.raws
    first = 1
    try:
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            arrays = list(record_batch.columns)
            lossy: dict[int, tuple[str, Any]] = {}
            for timestamp in timestamps:
                original = arrays[timestamp.index]
                arrays[timestamp.index], positions = timestamp.prepare(original)
                for position in positions:
                    lossy.setdefault(position, (names[timestamp.index], original[position].value))
            for index in dates:
                arrays[index] = pc.cast(pc.cast(arrays[index], pa.date32()), pa.int32())
            try:
                rows = pa.RecordBatch.from_arrays(arrays, names=names).to_pylist(maps_as_pydicts="strict")
            except ValueError as error:  # e.g. nanosecond timestamps nested in a struct or list
                raise InputFileError(
                    path,
                    f"rows {first}-{first + record_batch.num_rows - 1}: values Python cannot hold: {error}",
                ) from error
            kept: list[int] | range = range(len(rows))
            if lossy:
                for position, (name, nanos) in sorted(lossy.items()):
                    reason = (
                        f"invalid record: field '{name}': {nanos} nanoseconds: the digits below a "
                        "microsecond would be lost (TIMESTAMP holds microseconds)"
                    )
                    batch.refuse(first + position, (record_batch, position), reason, name)
                kept = [position for position in kept if position not in lossy]
                rows = [rows[position] for position in kept]
            records.extend(rows)
            numbers.extend(first + position for position in kept)
            raws.extend((record_batch, position) for position in kept)
            first += record_batch.num_rows
            yield
    except (OSError, pa.ArrowException) as error:
        raise InputFileError(path, f"row {first}: not readable as Parquet: {error}") from error
