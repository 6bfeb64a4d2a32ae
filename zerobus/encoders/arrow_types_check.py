"""Internal: Which Arrow types a table column takes from `stream.ingest_arrow`, and why not when it does not.

The table's own Arrow type (`zerobus.schema.arrow_types`) always fits. So do the other layouts
of the same data (large and view strings, binaries and lists, fixed-size binaries, dictionary
encoded values) and the conversions that keep every value exactly:

- any integer width into TINYINT..BIGINT and into DECIMAL: each value is range-checked;
- float16/float32 into DOUBLE, float32/float64 into FLOAT (each value must fit a float32;
  it is rounded to the nearest float32, as a Python float in a dict is), and integers
  whose every value a float holds exactly (up to 16 bits into FLOAT, 32 into DOUBLE);
- date32 or date64 (whole days only) into DATE;
- timestamps of any unit into TIMESTAMP (with a time zone: an instant) or TIMESTAMP_NTZ (without
  one: a wall-clock time); a value finer than microseconds is refused, never truncated;
- any decimal into DECIMAL(p, s): each value must fit without rounding;
- the null type (a DataFrame column of None only) into any column: every row lacks the value.

A timestamp without a zone is refused for TIMESTAMP (and one with a zone for TIMESTAMP_NTZ), as
a naive datetime is in a dict: which instant is meant is the caller's knowledge.
"""

from __future__ import annotations

from typing import Any

from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
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

__all__ = ["plain_type", "type_problem"]


def plain_type(pa: Any, arrow_type: Any) -> Any:
    """The value type of a dictionary-encoded type; any other type as it is."""
    return arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type


def is_text(pa: Any, arrow_type: Any) -> bool:
    types = pa.types
    return bool(
        types.is_string(arrow_type) or types.is_large_string(arrow_type) or types.is_string_view(arrow_type)
    )


def is_binary(pa: Any, arrow_type: Any) -> bool:
    types = pa.types
    return bool(
        types.is_binary(arrow_type)
        or types.is_large_binary(arrow_type)
        or types.is_fixed_size_binary(arrow_type)
        or types.is_binary_view(arrow_type)
    )


def _primitive_problem(pa: Any, given: Any, primitive: Primitive) -> str | None:
    types = pa.types
    row = DELTA_TYPES[primitive]
    kind = row.kind
    if kind is ValueKind.INTEGER:
        ok = types.is_integer(given)
    elif kind is ValueKind.FLOATING:
        # Integers convert exactly only when they fit the mantissa (24 bits for FLOAT, 53 for DOUBLE).
        widest_integer = 16 if row.float32 else 32
        ok = types.is_floating(given) or (types.is_integer(given) and given.bit_width <= widest_integer)
    elif kind is ValueKind.BOOLEAN:
        ok = types.is_boolean(given)
    elif kind is ValueKind.BINARY:
        ok = is_binary(pa, given)
    elif kind is ValueKind.VARIANT:
        ok = is_text(pa, given)
    elif kind is ValueKind.DATE:
        ok = types.is_date(given)
    elif kind is ValueKind.TIMESTAMP:
        if not types.is_timestamp(given):
            return "not a timestamp type"
        if row.timezone_aware and given.tz is None:
            return f"{row.name} needs a timestamp with a time zone (an instant); this one has none"
        if not row.timezone_aware and given.tz is not None:
            return (
                f"{row.name} takes a timestamp without a time zone (wall-clock time); this one has {given.tz}"
            )
        return None
    else:
        raise TypeError(f"no Arrow type check for value kind {kind.name} of {row.name}")
    return None if ok else "not a lossless conversion"


def type_problem(pa: Any, given: Any, expected: DataType) -> str | None:
    """Why Arrow type `given` cannot go into a column of Delta type `expected`; None when it can."""
    given = plain_type(pa, given)
    types = pa.types
    if types.is_null(given):
        return None  # only nulls (a column of None in a DataFrame): fits any nullable column
    if isinstance(expected, PrimitiveType):
        return _primitive_problem(pa, given, expected.primitive)
    if isinstance(expected, StringType):
        return None if is_text(pa, given) else "not a string type"
    if isinstance(expected, DecimalType):
        return None if types.is_decimal(given) or types.is_integer(given) else "not a decimal or integer type"
    if isinstance(expected, ArrayType):
        if not (types.is_list(given) or types.is_large_list(given) or types.is_fixed_size_list(given)):
            return "not a list type"
        return _inner(pa, given.value_type, expected.element, "element")
    if isinstance(expected, MapType):
        if not types.is_map(given):
            return "not a map type"
        return _inner(pa, given.key_type, expected.key, "key") or _inner(
            pa, given.item_type, expected.value, "value"
        )
    assert isinstance(expected, StructType)
    if not types.is_struct(given):
        return "not a struct type"
    members = {field.name: field.type for field in expected.fields}
    for index in range(given.num_fields):
        member = given.field(index)
        if member.name not in members:
            return f"member {member.name!r} is not in {expected.type_text}"
        problem = _inner(pa, member.type, members[member.name], member.name)
        if problem is not None:
            return problem
    return None


def _inner(pa: Any, given: Any, expected: DataType, where: str) -> str | None:
    problem = type_problem(pa, given, expected)
    return None if problem is None else f"{where}: {problem} ({given} for {expected.type_text})"
