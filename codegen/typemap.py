"""The type contract of docs/PROTOCOL.md section 7 as data: Delta type -> proto2 scalar, ranges.

Mapping is a table lookup, not a chain of ifs; every emitter and checker reads it from here.
"""

from __future__ import annotations

from typing import TypeAlias

from google.protobuf import descriptor_pb2

from zerobus.codegen.ir import (
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
    "INT_RANGES",
    "MAP_KEY_PROTO_TYPES",
    "PROTO_SCALARS",
    "ProtoScalar",
    "proto_scalar",
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

PROTO_SCALARS: dict[Primitive, ProtoScalar] = {
    Primitive.TINYINT: INT32,
    Primitive.SMALLINT: INT32,
    Primitive.INT: INT32,
    Primitive.BIGINT: INT64,
    Primitive.FLOAT: FLOAT,
    Primitive.DOUBLE: DOUBLE,
    Primitive.BOOLEAN: BOOL,
    Primitive.BINARY: BYTES,
    Primitive.DATE: INT32,
    Primitive.TIMESTAMP: INT64,
    Primitive.TIMESTAMP_NTZ: INT64,
    Primitive.VARIANT: STRING,
}

# Inclusive value ranges of the integral column types (the server range-checks the narrow ones).
INT_RANGES: dict[Primitive, tuple[int, int]] = {
    Primitive.TINYINT: (-(2**7), 2**7 - 1),
    Primitive.SMALLINT: (-(2**15), 2**15 - 1),
    Primitive.INT: (-(2**31), 2**31 - 1),
    Primitive.BIGINT: (-(2**63), 2**63 - 1),
    Primitive.DATE: (-(2**31), 2**31 - 1),
    Primitive.TIMESTAMP: (-(2**63), 2**63 - 1),
    Primitive.TIMESTAMP_NTZ: (-(2**63), 2**63 - 1),
}

# Proto map keys must be integral, bool or string.
MAP_KEY_PROTO_TYPES = frozenset({INT32.type, INT64.type, BOOL.type, STRING.type})


def proto_scalar(data_type: DataType) -> ProtoScalar | None:
    """The proto2 scalar a non-nested type maps to; None for ARRAY, MAP and STRUCT."""
    if isinstance(data_type, PrimitiveType):
        return PROTO_SCALARS[data_type.primitive]
    if isinstance(data_type, (DecimalType, StringType)):
        return STRING
    if isinstance(data_type, (ArrayType, MapType, StructType)):
        return None
    raise TypeError(f"not a data type: {data_type!r}")
