"""Internal: The type contract of docs/PROTOCOL.md section 7 as data: Delta type -> proto2 scalar, ranges.

Views of `delta_types_table` (the one row per Delta type) in the shapes the emitters and checks use.
"""

from __future__ import annotations

from zerobus.schema.delta_types_table import (
    BOOL,
    BYTES,
    DELTA_TYPES,
    DOUBLE,
    FLOAT,
    INT32,
    INT64,
    STRING,
    ProtoScalar,
    ValueKind,
    parametric_type,
)
from zerobus.schema.ir import DataType, Primitive, PrimitiveType

__all__ = [
    "BOOL",
    "BYTES",
    "DOUBLE",
    "FLOAT",
    "INT32",
    "INT64",
    "INT_RANGES",
    "MAP_KEY_PROTO_TYPES",
    "PROTO_SCALARS",
    "STRING",
    "ProtoScalar",
    "proto_scalar",
]

PROTO_SCALARS: dict[Primitive, ProtoScalar] = {p: row.proto for p, row in DELTA_TYPES.items()}

_SCALAR_RANGES = {INT32.name: (-(2**31), 2**31 - 1), INT64.name: (-(2**63), 2**63 - 1)}
# Inclusive value ranges of the types that travel as integers: an integral column's own range;
# for DATE and the timestamps the proto scalar's (their narrower wire ranges are `wire_range`).
INT_RANGES: dict[Primitive, tuple[int, int]] = {
    p: row.wire_range if row.kind is ValueKind.INTEGER else _SCALAR_RANGES[row.proto.name]
    for p, row in DELTA_TYPES.items()
    if row.wire_range is not None
}

# Proto map keys must be integral, bool or string.
MAP_KEY_PROTO_TYPES = frozenset({INT32.type, INT64.type, BOOL.type, STRING.type})


def proto_scalar(data_type: DataType) -> ProtoScalar | None:
    """The proto2 scalar a non-nested type maps to; None for ARRAY, MAP and STRUCT."""
    if isinstance(data_type, PrimitiveType):
        return PROTO_SCALARS[data_type.primitive]
    return parametric_type(data_type).proto
