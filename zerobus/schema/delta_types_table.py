"""Internal: One row per Delta type: everything the other modules need to know about it (docs/PROTOCOL.md section 7).

The parser, the proto layout and descriptors, the Arrow and Avro schemas, the Pydantic models, the
value converters and the server's checks all read these rows instead of keeping their own table
keyed by type, so adding a Delta type means adding a row here and, where its value kind is new,
one converter. `tests/codegen/test_delta_types_table.py` proves every consumer handles every row.

Pure data: importing this needs neither pyarrow, fastavro nor pydantic (Arrow types are named by
their pyarrow factory, Pydantic annotations by their source text).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeAlias

from google.protobuf import descriptor_pb2

from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructType,
)

__all__ = [
    "BOOL",
    "BYTES",
    "DELTA_TYPES",
    "DOUBLE",
    "FLOAT",
    "FLOAT32_MAX",
    "INT32",
    "INT64",
    "MAX_DATE_DAYS",
    "MAX_TIMESTAMP_MICROS",
    "MIN_DATE_DAYS",
    "MIN_TIMESTAMP_MICROS",
    "PARAMETRIC_TYPES",
    "STRING",
    "AvroReading",
    "DeltaTypeRow",
    "JsonForm",
    "ParametricTypeRow",
    "ProtoScalar",
    "ValueKind",
    "WireUnit",
    "delta_type",
    "parametric_type",
    "primitive_named",
]

_T = descriptor_pb2.FieldDescriptorProto
FieldType: TypeAlias = descriptor_pb2.FieldDescriptorProto.Type.ValueType


class ProtoScalar:
    """A proto2 scalar type: its name in .proto text and its `FieldDescriptorProto.Type`."""

    __slots__ = ("name", "type")

    def __init__(self, name: str, field_type: FieldType) -> None:
        self.name = name
        self.type = field_type

    def __repr__(self) -> str:
        return f"ProtoScalar({self.name})"


INT32 = ProtoScalar("int32", _T.TYPE_INT32)
INT64 = ProtoScalar("int64", _T.TYPE_INT64)
FLOAT = ProtoScalar("float", _T.TYPE_FLOAT)
DOUBLE = ProtoScalar("double", _T.TYPE_DOUBLE)
BOOL = ProtoScalar("bool", _T.TYPE_BOOL)
STRING = ProtoScalar("string", _T.TYPE_STRING)
BYTES = ProtoScalar("bytes", _T.TYPE_BYTES)

_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_ONE_MICRO = dt.timedelta(microseconds=1)
# The wire ranges of DATE (days) and TIMESTAMP (microseconds): Delta stores years 0001..9999.
MIN_DATE_DAYS = (dt.date.min - _EPOCH_DATE).days
MAX_DATE_DAYS = (dt.date.max - _EPOCH_DATE).days
MIN_TIMESTAMP_MICROS = (dt.datetime.min - _EPOCH_NAIVE) // _ONE_MICRO
MAX_TIMESTAMP_MICROS = (dt.datetime.max - _EPOCH_NAIVE) // _ONE_MICRO
# The largest finite FLOAT (32-bit IEEE 754): a larger finite number does not fit the column.
FLOAT32_MAX = 3.4028234663852886e38


class ValueKind(enum.Enum):
    """How a value of the type is converted and checked: one converter family per kind."""

    INTEGER = "integer"
    FLOATING = "floating"
    BOOLEAN = "boolean"
    BINARY = "binary"
    DATE = "date"
    TIMESTAMP = "timestamp"
    VARIANT = "variant"
    DECIMAL = "decimal"
    STRING = "string"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"


class WireUnit(enum.Enum):
    """What an integer on the wire counts, for the types that travel as counts since the epoch."""

    DAYS = "days since 1970-01-01"
    MICROS = "microseconds since the epoch"


class JsonForm(enum.Enum):
    """How a value is written in a JSON record."""

    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    BASE64 = "base64 text"
    JSON_TEXT = "JSON text"
    TEXT = "text"
    DECIMAL_TEXT = "decimal text"
    ARRAY = "array"
    OBJECT = "object"


@dataclass(frozen=True)
class AvroReading:
    """An Avro writer type a column accepts, and the factor turning its decoded value into the wire value."""

    avro_type: str
    logical_type: str | None = None
    factor: int = 1


@dataclass(frozen=True)
class DeltaTypeRow:
    """Everything about one Delta primitive.

    `wire_range`: the inclusive range of the integer on the wire (None: not an integer);
    `range_checked`: whether that range is narrower than the proto scalar's, so a decoded proto
    value still needs the check; `exact_python_type`: the Python type whose instances are already
    the wire value (None: always convert); `pydantic`: the annotation generated models use;
    `arrow`: (pyarrow factory, its arguments) of the Arrow type Flight takes and Delta stores;
    `avro`: the Avro type written for it, `avro_readings` the writer types accepted.
    """

    primitive: Primitive
    sql_names: tuple[str, ...]
    kind: ValueKind
    proto: ProtoScalar
    arrow: tuple[str, tuple[Any, ...]]
    avro: Any
    avro_readings: tuple[AvroReading, ...]
    pydantic: str
    json_form: JsonForm
    wire_range: tuple[int, int] | None = None
    range_checked: bool = False
    exact_python_type: type | None = None
    wire_unit: WireUnit | None = None
    timezone_aware: bool | None = None
    float32: bool = False

    @property
    def name(self) -> str:
        return self.primitive.name


@dataclass(frozen=True)
class ParametricTypeRow:
    """A type family with parameters or children (DECIMAL(p,s), the string family, ARRAY, MAP, STRUCT).

    `proto` is None for the nested families (they become repeated fields, maps or messages);
    `arrow_factory` names the pyarrow factory the Arrow schema builds from the parameters.
    """

    ir_class: type
    sql_names: tuple[str, ...]
    kind: ValueKind
    proto: ProtoScalar | None
    arrow_factory: str
    avro_type: str
    pydantic: str
    json_form: JsonForm


def _int_range(bits: int) -> tuple[int, int]:
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


_SAME_INT = (AvroReading("int"),)
_ROWS = (
    DeltaTypeRow(
        Primitive.TINYINT,
        ("TINYINT", "BYTE"),
        ValueKind.INTEGER,
        INT32,
        ("int8", ()),
        "int",
        _SAME_INT,
        "TinyInt",
        JsonForm.INTEGER,
        wire_range=_int_range(8),
        range_checked=True,
        exact_python_type=int,
    ),
    DeltaTypeRow(
        Primitive.SMALLINT,
        ("SMALLINT", "SHORT"),
        ValueKind.INTEGER,
        INT32,
        ("int16", ()),
        "int",
        _SAME_INT,
        "SmallInt",
        JsonForm.INTEGER,
        wire_range=_int_range(16),
        range_checked=True,
        exact_python_type=int,
    ),
    DeltaTypeRow(
        Primitive.INT,
        ("INT", "INTEGER"),
        ValueKind.INTEGER,
        INT32,
        ("int32", ()),
        "int",
        _SAME_INT,
        "Int",
        JsonForm.INTEGER,
        wire_range=_int_range(32),
        exact_python_type=int,
    ),
    DeltaTypeRow(
        Primitive.BIGINT,
        ("BIGINT", "LONG"),
        ValueKind.INTEGER,
        INT64,
        ("int64", ()),
        "long",
        (AvroReading("long"), AvroReading("int")),
        "BigInt",
        JsonForm.INTEGER,
        wire_range=_int_range(64),
        exact_python_type=int,
    ),
    DeltaTypeRow(
        Primitive.FLOAT,
        ("FLOAT", "REAL"),
        ValueKind.FLOATING,
        FLOAT,
        ("float32", ()),
        "float",
        (AvroReading("float"),),
        "float",
        JsonForm.NUMBER,
        float32=True,
    ),
    DeltaTypeRow(
        Primitive.DOUBLE,
        ("DOUBLE",),
        ValueKind.FLOATING,
        DOUBLE,
        ("float64", ()),
        "double",
        (AvroReading("double"), AvroReading("float")),
        "float",
        JsonForm.NUMBER,
        exact_python_type=float,
    ),
    DeltaTypeRow(
        Primitive.BOOLEAN,
        ("BOOLEAN",),
        ValueKind.BOOLEAN,
        BOOL,
        ("bool_", ()),
        "boolean",
        (AvroReading("boolean"),),
        "bool",
        JsonForm.BOOLEAN,
        exact_python_type=bool,
    ),
    DeltaTypeRow(
        Primitive.BINARY,
        ("BINARY",),
        ValueKind.BINARY,
        BYTES,
        ("binary", ()),
        "bytes",
        (AvroReading("bytes"), AvroReading("fixed")),
        "bytes",
        JsonForm.BASE64,
        exact_python_type=bytes,
    ),
    DeltaTypeRow(
        Primitive.DATE,
        ("DATE",),
        ValueKind.DATE,
        INT32,
        ("date32", ()),
        {"type": "int", "logicalType": "date"},
        (AvroReading("int", "date"),),
        "_datetime.date",
        JsonForm.INTEGER,
        wire_range=(MIN_DATE_DAYS, MAX_DATE_DAYS),
        range_checked=True,
        wire_unit=WireUnit.DAYS,
    ),
    DeltaTypeRow(
        Primitive.TIMESTAMP,
        ("TIMESTAMP", "TIMESTAMP_LTZ"),
        ValueKind.TIMESTAMP,
        INT64,
        ("timestamp", ("us", "UTC")),
        {"type": "long", "logicalType": "timestamp-micros"},
        (AvroReading("long", "timestamp-micros"), AvroReading("long", "timestamp-millis", 1000)),
        "AwareDatetime",
        JsonForm.INTEGER,
        wire_range=(MIN_TIMESTAMP_MICROS, MAX_TIMESTAMP_MICROS),
        range_checked=True,
        wire_unit=WireUnit.MICROS,
        timezone_aware=True,
    ),
    DeltaTypeRow(
        Primitive.TIMESTAMP_NTZ,
        ("TIMESTAMP_NTZ",),
        ValueKind.TIMESTAMP,
        INT64,
        ("timestamp", ("us",)),
        {"type": "long", "logicalType": "local-timestamp-micros"},
        (
            AvroReading("long", "local-timestamp-micros"),
            AvroReading("long", "local-timestamp-millis", 1000),
        ),
        "NaiveDatetime",
        JsonForm.INTEGER,
        wire_range=(MIN_TIMESTAMP_MICROS, MAX_TIMESTAMP_MICROS),
        range_checked=True,
        wire_unit=WireUnit.MICROS,
        timezone_aware=False,
    ),
    DeltaTypeRow(
        Primitive.VARIANT,
        ("VARIANT",),
        ValueKind.VARIANT,
        STRING,
        ("string", ()),
        "string",
        (AvroReading("string"),),
        "JsonValue",
        JsonForm.JSON_TEXT,
    ),
)

DELTA_TYPES: Mapping[Primitive, DeltaTypeRow] = MappingProxyType({row.primitive: row for row in _ROWS})

PARAMETRIC_TYPES: tuple[ParametricTypeRow, ...] = (
    ParametricTypeRow(
        DecimalType,
        ("DECIMAL", "DEC", "NUMERIC"),
        ValueKind.DECIMAL,
        STRING,
        "decimal128",
        "bytes",
        "Decimal",
        JsonForm.DECIMAL_TEXT,
    ),
    ParametricTypeRow(
        StringType,
        ("STRING", "VARCHAR", "CHAR"),
        ValueKind.STRING,
        STRING,
        "string",
        "string",
        "str",
        JsonForm.TEXT,
    ),
    ParametricTypeRow(ArrayType, ("ARRAY",), ValueKind.ARRAY, None, "list_", "array", "list", JsonForm.ARRAY),
    ParametricTypeRow(MapType, ("MAP",), ValueKind.MAP, None, "map_", "map", "dict", JsonForm.OBJECT),
    ParametricTypeRow(
        StructType, ("STRUCT",), ValueKind.STRUCT, None, "struct", "record", "model", JsonForm.OBJECT
    ),
)

_BY_SQL_NAME = {name: row.primitive for row in _ROWS for name in row.sql_names}
_PARAMETRIC_BY_CLASS = {row.ir_class: row for row in PARAMETRIC_TYPES}


def _check_complete() -> None:
    """Every Primitive has exactly one row: a new member without a row fails at import, not later."""
    missing = [p.name for p in Primitive if p not in DELTA_TYPES]
    if missing or len(DELTA_TYPES) != len(_ROWS):
        raise RuntimeError(f"delta_types_table: Primitive members without exactly one row: {missing}")


_check_complete()


def delta_type(primitive: Primitive) -> DeltaTypeRow:
    """The row of a Delta primitive."""
    return DELTA_TYPES[primitive]


def parametric_type(data_type: DataType) -> ParametricTypeRow:
    """The row of a parametric or nested type; `TypeError` for a primitive or a non-type."""
    row = _PARAMETRIC_BY_CLASS.get(type(data_type))
    if row is None or isinstance(data_type, PrimitiveType):
        raise TypeError(f"not a parametric data type: {data_type!r}")
    return row


def primitive_named(sql_name: str) -> Primitive | None:
    """The primitive an upper-case SQL type name or alias names (``LONG`` -> BIGINT); None if none."""
    return _BY_SQL_NAME.get(sql_name)
