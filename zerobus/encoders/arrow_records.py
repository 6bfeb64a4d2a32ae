"""Internal: `stream.ingest_arrow`: Arrow data -> the stream's records, every row checked before any is queued.

For a PROTO stream whose table schema is known, the Arrow schema is checked against the table
first (each column by exact name, as a dict's keys are; types per
`zerobus.encoders.arrow_types_check`), then flat columns are encoded to protobuf wire bytes with
numpy (`zerobus.encoders.arrow_columns`, `zerobus.encoders.arrow_wire`) and nested ones (ARRAY,
MAP, STRUCT, VARIANT, enum fields) row by row with the dict path's converters, so a record
carries the same bytes either way. Field numbers and wire types come from the stream's
descriptor. Other streams (JSON, Avro, descriptors with types that have no Delta counterpart)
get each row as a dict through their own encoder, timestamps never truncated. The records are
then cut into submissions that fit one request and the in-flight window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from google.protobuf import descriptor_pb2

from zerobus.encoders.arrow_columns import FieldInfo, scalar_piece
from zerobus.encoders.arrow_input import as_arrow_table
from zerobus.encoders.arrow_types_check import type_problem
from zerobus.encoders.arrow_wire import Piece, assemble
from zerobus.encoders.base import EncodedRecords, Payload, RecordEncoder
from zerobus.errors import InvalidRecordError, SchemaError
from zerobus.protocol import RecordTypeValue
from zerobus.schema.arrow_types import arrow_type
from zerobus.schema.descriptor import message_builder
from zerobus.schema.ir import ArrayType, Column, MapType, StructType, TableSchema
from zerobus.schema.python_to_wire import to_wire

__all__ = ["ArrowRecordEncoder"]

_F = descriptor_pb2.FieldDescriptorProto
# Rows converted at a time: bounds the index arrays numpy builds while assembling records.
_SLICE_ROWS = 65_536
# What a record adds to a request besides its bytes (its tag and length), counted as the engine does.
_RECORD_FRAMING = 16


class ArrowRecordEncoder:
    """Arrow tables -> submissions of encoded records for one stream (compiled once per stream)."""

    def __init__(self, encoder: RecordEncoder) -> None:
        self._encoder = encoder
        self._schema: TableSchema | None = encoder.schema
        self._json = encoder.record_type == RecordTypeValue.JSON
        message_class = getattr(encoder, "message_class", None)
        self._fields: dict[str, FieldInfo] = {}
        self._build: Callable[[dict[str, Any]], Any] | None = None
        if not self._json and self._schema is not None and message_class is not None:
            self._fields = _field_infos(self._schema, message_class, encoder.descriptor_proto)
            self._build = message_builder(message_class)
        self._vectorised = bool(self._fields)

    def submissions(
        self, data: Any, max_records: int, max_bytes: int, max_record_bytes: int | None = None
    ) -> list[EncodedRecords]:
        """Every row of `data` encoded, in submissions of at most `max_records` and `max_bytes`.

        A record larger than `max_bytes` goes alone; one larger than `max_record_bytes` (one
        request's limit; `max_bytes` when not given) is refused before anything is returned.
        """
        limits = (max_records, max_bytes, max_bytes if max_record_bytes is None else max_record_bytes)
        table = as_arrow_table(data, "ingest_arrow")
        if self._vectorised:
            self._check_columns(table)
            out: list[EncodedRecords] = []
            for start in range(0, table.num_rows, _SLICE_ROWS):
                buffer, starts, ends = self._encode_slice(table.slice(start, _SLICE_ROWS), start)
                out.extend(_cut(buffer, starts, ends, start, limits))
            return out
        payloads = self._rows_one_by_one(table)
        lengths = np.fromiter(map(len, payloads), np.int64, len(payloads))  # len() units, as the engine's
        wire_sizes = np.fromiter(map(_wire_size, payloads), np.int64, len(payloads))  # UTF-8 for JSON
        return [
            EncodedRecords(payloads[first:last], int(lengths[first:last].sum()))
            for first, last in _bounds(wire_sizes, 0, limits)
        ]

    # --- checks -----------------------------------------------------------------------------------

    def _check_columns(self, table: Any) -> None:
        names = table.column_names
        seen: set[str] = set()
        for name, arrow_field in zip(names, table.schema, strict=True):
            if name in seen:
                raise SchemaError("appears twice in the Arrow data", column=name)
            seen.add(name)
            info = self._fields.get(name)
            if info is None:
                raise SchemaError(_unknown_column(name, self._fields), column=name)
            problem = type_problem(pa, arrow_field.type, info.column.type)
            if problem is not None:
                expected = arrow_type(info.column.type)
                raise SchemaError(
                    f"Arrow type {arrow_field.type} does not fit {info.column.type.type_text} "
                    f"(expected {expected}): {problem}",
                    column=name,
                )
        for name, info in self._fields.items():
            if info.required and name not in seen:
                raise SchemaError("NOT NULL column is missing from the Arrow data", column=name)

    # --- encoding -----------------------------------------------------------------------------------

    def _encode_slice(
        self, table: Any, first_row: int
    ) -> tuple[bytes, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        present = {name: table.column(name).combine_chunks() for name in table.column_names}
        pieces: list[Piece] = []
        for info in sorted(self._fields.values(), key=lambda field: field.number):
            array = present.get(info.name)
            if array is None:
                continue
            piece = scalar_piece(info, array, first_row)
            pieces.append(piece if piece is not None else self._rowwise_piece(info, array, first_row))
        return assemble(pieces, table.num_rows)

    def _rowwise_piece(self, info: FieldInfo, array: Any, first_row: int) -> Piece:
        """A nested (or otherwise unusual) field, one row at a time through the dict path."""
        assert self._build is not None
        build = self._build
        convert = to_wire(info.column.type, info.name)
        values = _python_values(info.column, array, first_row)
        parts: list[bytes] = []
        for index, value in enumerate(values):
            if value is None:
                if info.required:
                    raise InvalidRecordError(
                        info.name, None, f"row {first_row + index}: NOT NULL column is null"
                    )
                parts.append(b"")
                continue
            try:
                wire = convert(value)
                parts.append(build({info.name: wire}).SerializePartialToString())
            except InvalidRecordError as error:
                raise InvalidRecordError(
                    error.field, error.value, f"row {first_row + index}: {error.reason}"
                ) from None
            except (TypeError, ValueError) as error:
                raise InvalidRecordError(info.name, value, f"row {first_row + index}: {error}") from None
        lengths = np.fromiter(map(len, parts), np.int64, len(parts))
        starts = np.zeros(len(parts), np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        body = np.frombuffer(b"".join(parts), np.uint8)
        return Piece(
            np.empty((len(parts), 0), np.uint8), np.zeros(len(parts), np.int64), body, starts, lengths
        )

    def _rows_one_by_one(self, table: Any) -> list[Payload]:
        """Streams without a message class and table schema to vectorise against (JSON, Avro, a
        descriptor whose types have no Delta counterpart): each row as a dict, through `encode`."""
        schema = self._schema
        if schema is not None:
            columns = {column.name: column for column in schema.columns}
            arrays = []
            for name, column in zip(table.column_names, table.columns, strict=True):
                known = columns.get(name)
                if known is None:
                    raise SchemaError(_unknown_column(name, columns), column=name)
                arrays.append(_exact(known, column.combine_chunks(), 0))
            table = pa.Table.from_arrays(arrays, names=table.column_names)
        else:  # Python datetimes hold microseconds: nanosecond timestamps are cast, never truncated
            arrays = [
                _cast_exactly(column.combine_chunks(), _in_micros(column.type), name, 0)
                for name, column in zip(table.column_names, table.columns, strict=True)
            ]
            table = pa.Table.from_arrays(arrays, names=table.column_names)
        rows = table.to_pylist(maps_as_pydicts="strict")
        payloads, _ = self._encoder.encode_many(rows)
        return payloads


def _field_infos(
    schema: TableSchema, message_class: Any, descriptor_proto: bytes | None
) -> dict[str, FieldInfo]:
    """Each column's proto field (number, type, label) as the stream's descriptor declares it."""
    labels: dict[str, int] = {}
    if descriptor_proto is not None:
        proto = descriptor_pb2.DescriptorProto.FromString(descriptor_proto)
        labels = {field.name: field.label for field in proto.field}
    fields = message_class.DESCRIPTOR.fields_by_name
    infos: dict[str, FieldInfo] = {}
    for column in schema.columns:
        field = fields.get(column.name)
        if field is None:
            continue
        infos[column.name] = FieldInfo(
            column,
            field.number,
            field.type,
            required=labels.get(column.name) == _F.LABEL_REQUIRED,
            presence=bool(getattr(field, "has_presence", True)),
        )
    return infos


def _wire_size(payload: Payload) -> int:
    return len(payload.encode("utf-8")) if isinstance(payload, str) else len(payload)


def _unknown_column(name: str, known: dict[str, Any]) -> str:
    reason = "the table has no such column (columns the table does not have are refused, as dict keys are)"
    alike = [other for other in known if other.lower() == name.lower()]
    if alike:
        return f"{reason}; did you mean {alike[0]!r}? (names are case-sensitive)"
    if name.startswith("__index_level_"):
        return f"{reason}; it is a pandas index: pass df.reset_index(drop=True)"
    return reason


def _python_values(column: Column, array: Any, first_row: int) -> list[Any]:
    data_type = column.type
    exact = _exact(column, array, first_row)
    if isinstance(data_type, (ArrayType, MapType, StructType)):
        return list(exact.to_pylist(maps_as_pydicts="strict"))
    return list(exact.to_pylist())


def _exact(column: Column, array: Any, first_row: int) -> Any:
    """`array` cast to the column's own Arrow type, refusing a type that does not fit or a lossy value."""
    problem = type_problem(pa, array.type, column.type)
    if problem is not None:
        raise SchemaError(
            f"Arrow type {array.type} does not fit {column.type.type_text}: {problem}", column=column.name
        )
    return _cast_exactly(array, arrow_type(column.type), column.name, first_row)


def _cast_exactly(array: Any, target: Any, name: str, first_row: int) -> Any:
    """`array` cast to `target`, refusing any value the cast would change (naming its row)."""
    if array.type == target:
        return array
    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        for index in range(len(array)):
            try:
                array.take([index]).cast(target)  # a slice would cast the whole child array
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as row_error:
                raise InvalidRecordError(
                    name, str(array[index]), f"row {first_row + index}: {row_error}"
                ) from None
        raise SchemaError(f"cannot be converted to {target}: {error}", column=name) from None


def _in_micros(arrow_type: Any) -> Any:
    """`arrow_type` with every nanosecond timestamp inside it made a microsecond one."""
    types = pa.types
    if types.is_timestamp(arrow_type) and arrow_type.unit == "ns":
        return pa.timestamp("us", arrow_type.tz)
    if types.is_list(arrow_type) or types.is_large_list(arrow_type):
        element = arrow_type.value_field
        factory = pa.list_ if types.is_list(arrow_type) else pa.large_list
        return factory(element.with_type(_in_micros(element.type)))
    if types.is_map(arrow_type):
        return pa.map_(
            arrow_type.key_field, arrow_type.item_field.with_type(_in_micros(arrow_type.item_type))
        )
    if types.is_struct(arrow_type):
        return pa.struct([field.with_type(_in_micros(field.type)) for field in arrow_type])
    return arrow_type


def _bounds(
    lengths: npt.NDArray[np.int64], first_row: int, limits: tuple[int, int, int]
) -> list[tuple[int, int]]:
    """Consecutive [first, last) row ranges, each at most `max_records` rows and `max_bytes` bytes
    (or one row alone); `limits` is (max_records, max_bytes, max_record_bytes)."""
    max_records, max_bytes, max_record_bytes = limits
    sizes = lengths + _RECORD_FRAMING
    too_big = np.flatnonzero(sizes > max_record_bytes)
    if len(too_big):
        row = int(too_big[0])
        raise InvalidRecordError(
            "",
            f"{int(lengths[row])} bytes",
            f"row {first_row + row}: the record is larger than one request may be",
        )
    cumulative = np.cumsum(sizes)
    bounds: list[tuple[int, int]] = []
    first, count = 0, len(lengths)
    while first < count:
        before = int(cumulative[first - 1]) if first else 0
        last = int(np.searchsorted(cumulative, before + max_bytes, side="right"))
        last = max(first + 1, min(last, first + max_records))
        bounds.append((first, last))
        first = last
    return bounds


def _cut(
    buffer: bytes,
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    first_row: int,
    limits: tuple[int, int, int],
) -> list[EncodedRecords]:
    lengths = ends - starts
    out = []
    for first, last in _bounds(lengths, first_row, limits):
        slices = map(slice, starts[first:last].tolist(), ends[first:last].tolist())
        out.append(EncodedRecords(list(map(buffer.__getitem__, slices)), int(lengths[first:last].sum())))
    return out
