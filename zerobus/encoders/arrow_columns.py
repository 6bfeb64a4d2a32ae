"""Internal: One Arrow column -> one field of every record, checked and encoded without a loop per value.

Flat columns (integers, floats, booleans, strings, binaries, dates, timestamps, decimals) are
converted with pyarrow compute and numpy into a `zerobus.encoders.arrow_wire.Piece`; every value
is checked first (ranges, lossless units, NOT NULL), and a refusal names the column, the row and
the value. Nested columns, VARIANT and enum fields return None: the caller encodes them row by
row with the dict path's converters.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from google.protobuf import descriptor_pb2

from zerobus.encoders.arrow_wire import (
    WIRE_FIXED32,
    WIRE_FIXED64,
    WIRE_LENGTH_DELIMITED,
    WIRE_VARINT,
    Mask,
    Piece,
    fixed_piece,
    length_delimited_piece,
    tag_bytes,
    varint_piece,
    zigzag,
)
from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import decimal_text
from zerobus.schema.delta_types_table import (
    DELTA_TYPES,
    FLOAT32_MAX,
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_MICROS,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_MICROS,
    ValueKind,
    WireUnit,
)
from zerobus.schema.ir import Column, DecimalType, Primitive, PrimitiveType, StringType
from zerobus.schema.typemap import INT_RANGES

__all__ = ["FieldInfo", "scalar_piece"]

_F = descriptor_pb2.FieldDescriptorProto
# Integer proto types: (wire type, value range the type holds, zigzag?)
_INT_WIRE: dict[int, tuple[int, int, int, bool]] = {
    _F.TYPE_INT32: (WIRE_VARINT, -(2**31), 2**31 - 1, False),
    _F.TYPE_INT64: (WIRE_VARINT, -(2**63), 2**63 - 1, False),
    _F.TYPE_UINT32: (WIRE_VARINT, 0, 2**32 - 1, False),
    _F.TYPE_UINT64: (WIRE_VARINT, 0, 2**63 - 1, False),
    _F.TYPE_SINT32: (WIRE_VARINT, -(2**31), 2**31 - 1, True),
    _F.TYPE_SINT64: (WIRE_VARINT, -(2**63), 2**63 - 1, True),
    _F.TYPE_FIXED32: (WIRE_FIXED32, 0, 2**32 - 1, False),
    _F.TYPE_FIXED64: (WIRE_FIXED64, 0, 2**63 - 1, False),
    _F.TYPE_SFIXED32: (WIRE_FIXED32, -(2**31), 2**31 - 1, False),
    _F.TYPE_SFIXED64: (WIRE_FIXED64, -(2**63), 2**63 - 1, False),
}
_FIXED_DTYPES = {
    (WIRE_FIXED32, True): np.int32,
    (WIRE_FIXED32, False): np.uint32,
    (WIRE_FIXED64, True): np.int64,
    (WIRE_FIXED64, False): np.uint64,
}
_MICROS_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}
_MS_PER_DAY = 86_400_000


@dataclass(frozen=True)
class FieldInfo:
    """A table column and the proto field its values go to (from the stream's descriptor)."""

    column: Column
    number: int
    proto_type: int
    required: bool
    # False for a proto3 field without presence: its default value is not written at all.
    presence: bool

    @property
    def name(self) -> str:
        return self.column.name


class _Column:
    """The column's values in one slice and how to name a row in an error."""

    def __init__(self, info: FieldInfo, array: Any, first_row: int) -> None:
        self.info = info
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        self.array = array
        self.first_row = first_row
        self.present: Mask | None = None
        if array.null_count:
            self.present = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)

    def refuse(self, index: int, reason: str) -> InvalidRecordError:
        try:
            value = self.array[index].as_py()
        except (OverflowError, ValueError):  # a date or time Python cannot hold: show the stored integer
            storage = pa.int64() if self.array.type.bit_width == 64 else pa.int32()
            value = f"{self.array.view(storage)[index].as_py()} ({self.array.type})"
        return InvalidRecordError(self.info.name, value, f"row {self.first_row + index}: {reason}")

    def first_bad(self, bad: Mask) -> int | None:
        if self.present is not None:
            bad = bad & self.present
        hits = np.flatnonzero(bad)
        return int(hits[0]) if len(hits) else None

    def check(self, bad: Mask, reason: str) -> None:
        index = self.first_bad(bad)
        if index is not None:
            raise self.refuse(index, reason)

    def numbers(self, target: Any) -> npt.NDArray[Any]:
        """The values as a numpy array (nulls as 0) of the array's own numeric type."""
        array = self.array
        if self.present is not None:
            zero = False if pa.types.is_boolean(array.type) else 0
            array = pc.fill_null(array, pa.scalar(zero, array.type))
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=target)


def scalar_piece(info: FieldInfo, array: Any, first_row: int) -> Piece | None:
    """The field of every row of `array` (a slice of the input starting at `first_row`), or None."""
    column = _Column(info, array, first_row)
    if info.required and column.present is not None:
        index = int(np.flatnonzero(~column.present)[0])
        raise InvalidRecordError(info.name, None, f"row {first_row + index}: NOT NULL column is null")
    if pa.types.is_null(column.array.type):
        return Piece(np.empty((len(array), 0), np.uint8), np.zeros(len(array), np.int64))
    data_type = info.column.type
    if isinstance(data_type, StringType):
        return _text(column, data_type.length)
    if isinstance(data_type, DecimalType):
        return _decimal(column, data_type)
    if not isinstance(data_type, PrimitiveType):
        return None
    primitive = data_type.primitive
    kind = DELTA_TYPES[primitive].kind
    if primitive in INT_RANGES and info.proto_type in _INT_WIRE:
        return _integer(column, primitive, _int_values(column, primitive))
    if kind is ValueKind.FLOATING:
        return _floating(column)
    if kind is ValueKind.BOOLEAN and info.proto_type == _F.TYPE_BOOL:
        values = column.numbers(np.bool_)  # a bool's varint is one byte: 0 or 1
        return fixed_piece(_tag(info, WIRE_VARINT), values.view(np.uint8), _present(column, values))
    if kind is ValueKind.BINARY and info.proto_type == _F.TYPE_BYTES:
        return _bytes_piece(column, _as_large(column.array, pa.large_binary()))
    return None


def _tag(info: FieldInfo, wire_type: int) -> bytes:
    return tag_bytes(info.number, wire_type)


def _present(column: _Column, values: npt.NDArray[Any]) -> Mask | None:
    """Rows that carry the field: non-null ones, and for a field without presence non-zero ones."""
    if column.info.presence:
        return column.present
    # Any byte set: -0.0 is written by proto3 runtimes too (they compare bits, not values).
    raw = np.ascontiguousarray(values).view(np.uint8).reshape(len(values), values.dtype.itemsize)
    nonzero = np.asarray(raw.any(axis=1), dtype=np.bool_)
    return nonzero if column.present is None else nonzero & column.present


def _int_values(column: _Column, primitive: Primitive) -> npt.NDArray[np.int64]:
    """Integers as int64 in wire units: days for DATE, microseconds for timestamps."""
    array_type = column.array.type
    unit = DELTA_TYPES[primitive].wire_unit
    if unit is WireUnit.DAYS:
        return _days(column)
    if unit is WireUnit.MICROS:
        return _micros(column, array_type.unit)
    values = column.numbers(array_type.to_pandas_dtype())
    low, high = INT_RANGES[primitive]
    info = np.iinfo(values.dtype)
    column.check(
        (values < max(low, info.min)) | (values > min(high, info.max)),
        f"out of range for {primitive.name} [{low}, {high}]",
    )
    return values.astype(np.int64)


def _days(column: _Column) -> npt.NDArray[np.int64]:
    if pa.types.is_date64(column.array.type):
        millis = column.numbers(np.int64) if column.present is None else _as_int64(column)
        column.check(millis % _MS_PER_DAY != 0, "date64 value is not a whole day")
        days = millis // _MS_PER_DAY
    else:
        days = _as_int64(column)
    column.check((days < MIN_DATE_DAYS) | (days > MAX_DATE_DAYS), "outside the DATE range (years 1-9999)")
    return days


def _as_int64(column: _Column) -> npt.NDArray[np.int64]:
    """A temporal array's raw integers (nulls as 0)."""
    raw = column.array.view(pa.int64() if column.array.type.bit_width == 64 else pa.int32())
    filled = pc.fill_null(raw, 0) if column.present is not None else raw
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _micros(column: _Column, unit: str) -> npt.NDArray[np.int64]:
    values = _as_int64(column)
    if unit == "ns":
        column.check(values % 1000 != 0, "has nanoseconds; TIMESTAMP stores microseconds (round it first)")
        micros = values // 1000
    else:
        per_unit = _MICROS_PER_UNIT[unit]
        low, high = -(-MIN_TIMESTAMP_MICROS // per_unit), MAX_TIMESTAMP_MICROS // per_unit
        column.check((values < low) | (values > high), "outside the TIMESTAMP range (years 1-9999)")
        micros = values * per_unit
    column.check(
        (micros < MIN_TIMESTAMP_MICROS) | (micros > MAX_TIMESTAMP_MICROS),
        "outside the TIMESTAMP range (years 1-9999)",
    )
    return micros


def _integer(column: _Column, primitive: Primitive, values: npt.NDArray[np.int64]) -> Piece:
    info = column.info
    wire_type, low, high, zigzagged = _INT_WIRE[info.proto_type]
    column.check((values < low) | (values > high), f"out of range for the proto field [{low}, {high}]")
    present = _present(column, values)
    if wire_type == WIRE_VARINT:
        wire = zigzag(values) if zigzagged else values.view(np.uint64)
        return varint_piece(_tag(info, WIRE_VARINT), wire, present)
    dtype = _FIXED_DTYPES[(wire_type, low < 0)]
    return fixed_piece(_tag(info, wire_type), values.astype(dtype), present)


def _floating(column: _Column) -> Piece | None:
    info = column.info
    if info.proto_type not in (_F.TYPE_FLOAT, _F.TYPE_DOUBLE):
        return None
    values = column.numbers(np.float64)
    if info.proto_type == _F.TYPE_FLOAT:
        column.check(np.isfinite(values) & (np.abs(values) > FLOAT32_MAX), "out of range for FLOAT (32-bit)")
        wire: npt.NDArray[Any] = values.astype(np.float32)
        return fixed_piece(_tag(info, WIRE_FIXED32), wire, _present(column, wire))
    return fixed_piece(_tag(info, WIRE_FIXED64), values, _present(column, values))


def _as_large(array: Any, large_type: Any) -> Any:
    return array if array.type == large_type else array.cast(large_type)


def _bytes_piece(column: _Column, large: Any) -> Piece:
    """A string or binary field from a large_string / large_binary array (64-bit offsets)."""
    offsets_buffer, data_buffer = large.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, np.int64)[large.offset : large.offset + len(large) + 1]
    body = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    starts = offsets[:-1].astype(np.int64)
    lengths = np.diff(offsets)
    present = column.present
    if not column.info.presence:
        present = lengths > 0 if present is None else present & (lengths > 0)
    return length_delimited_piece(_tag(column.info, WIRE_LENGTH_DELIMITED), body, starts, lengths, present)


def _text(column: _Column, max_length: int | None) -> Piece | None:
    if column.info.proto_type != _F.TYPE_STRING:
        return None
    large = _as_large(column.array, pa.large_string())
    try:
        large.validate(full=True)
    except pa.ArrowInvalid as error:
        raise InvalidRecordError(column.info.name, None, f"not valid UTF-8 text: {error}") from None
    if max_length is not None:
        too_long = (
            np.asarray(pc.fill_null(pc.utf8_length(large), 0).to_numpy(zero_copy_only=False)) > max_length
        )
        column.check(too_long, f"longer than {max_length} characters")
    return _bytes_piece(column, large)


def _decimal(column: _Column, decimal_type: DecimalType) -> Piece | None:
    if column.info.proto_type != _F.TYPE_STRING:
        return None
    array = column.array
    target = pa.decimal128(decimal_type.precision, decimal_type.scale)
    try:
        if pa.types.is_integer(array.type):
            array = array.cast(pa.decimal128(38, 0))
        exact = array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise _decimal_refusal(column, decimal_type, error) from None
    return _bytes_piece(column, exact.cast(pa.large_string()))


def _decimal_refusal(column: _Column, decimal_type: DecimalType, error: Exception) -> InvalidRecordError:
    """The first value that does not fit, found row by row (this path runs only for a refusal)."""
    for index, value in enumerate(column.array.to_pylist()):
        if value is None:
            continue
        try:
            decimal_text(decimal.Decimal(value), decimal_type)
        except InvalidRecordError as refusal:
            return column.refuse(index, refusal.reason)
    return InvalidRecordError(
        column.info.name, None, f"cannot be converted to {decimal_type.type_text}: {error}"
    )
