"""Internal: Does an Arrow stream's schema fit a table? Checked once, when a Flight `DoPut` starts.

The table's Arrow schema is the schema core's (`TableSchema.arrow_schema()`); a client's schema
fits it when every field has the table's type, with the same leniency as PROTO descriptors:

- names match ignoring case (Delta column names are case-insensitive), in any order; two
  fields naming one column are refused;
- a nullable column (or struct member) may be left out: it is null in every row; a NOT NULL one
  may not, and a field the table does not have is refused;
- nullability flags are not compared: the batches' actual nulls are checked instead, so a
  schema built without flags (pyarrow's default) still fits;
- the 64-bit-offset layouts of the same data (large_string, large_binary, large_list) fit the
  table's string, binary and list columns, as do list/map child names other than Delta's, and
  timestamps whose zone is spelled as another name of UTC.

Anything else (another unit, width, zone, precision, dictionary encoding) is a mismatch, named
by its column path with the expected and the actual Arrow type.
"""

from __future__ import annotations

from typing import Any

from zerobus.schema.arrow_types import arrow_type
from zerobus.schema.delta_types_table import DELTA_TYPES, ValueKind
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    MapType,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)

__all__ = ["UTC_NAMES", "ArrowSchemaMismatch", "check_arrow_schema", "field_index"]

UTC_NAMES = frozenset({"UTC", "utc", "Etc/UTC", "+00:00", "Z", "GMT", "Etc/GMT"})


class ArrowSchemaMismatch(ValueError):
    """The stream's Arrow schema cannot be written to the table; the message says where and why."""


def check_arrow_schema(schema: TableSchema, actual: Any) -> None:
    """Raise `ArrowSchemaMismatch` unless the `pyarrow.Schema` `actual` fits `schema`'s table."""
    _check_struct(schema.as_struct(), list(actual), "", top_level=True)


def field_index(fields: list[Any], name: str) -> int | None:
    """Index of the Arrow field named `name` ignoring case, or None."""
    wanted = name.lower()
    for index, field in enumerate(fields):
        if field.name.lower() == wanted:
            return index
    return None


def _check_struct(struct: StructType, fields: list[Any], path: str, top_level: bool) -> None:
    kind = "column" if top_level else "field"
    seen: dict[str, str] = {}
    for field in fields:
        first = seen.get(field.name.lower())
        if first is not None:
            where = f" of '{path}'" if path else ""
            raise ArrowSchemaMismatch(
                f"Arrow fields '{first}' and '{field.name}'{where} name the same {kind} "
                "(column names are case-insensitive)"
            )
        seen[field.name.lower()] = field.name
    members = {member.name.lower(): member for member in struct.fields}
    for field in fields:
        member = members.get(field.name.lower())
        field_path = f"{path}.{field.name}" if path else field.name
        if member is None:
            raise ArrowSchemaMismatch(
                f"{kind} '{field_path}' of the Arrow schema does not exist in the table "
                f"(table {kind}s: {[m.name for m in struct.fields]})"
            )
        _check_type(member, field.type, f"{path}.{member.name}" if path else member.name)
    for member in struct.fields:
        if not member.nullable and member.name.lower() not in seen:
            member_path = f"{path}.{member.name}" if path else member.name
            raise ArrowSchemaMismatch(
                f"{kind} '{member_path}' is NOT NULL but the Arrow schema has no field for it"
            )


def _check_type(member: StructField, actual: Any, path: str) -> None:
    import pyarrow as pa

    data_type = member.type
    if _fits(data_type, actual, pa):
        if isinstance(data_type, StructType):
            _check_struct(data_type, list(actual), path, top_level=False)
        elif isinstance(data_type, ArrayType):
            _check_type(StructField("element", data_type.element), actual.value_type, f"{path}.element")
        elif isinstance(data_type, MapType):
            _check_type(StructField("key", data_type.key), actual.key_type, f"{path}.key")
            _check_type(StructField("value", data_type.value), actual.item_type, f"{path}.value")
        return
    raise ArrowSchemaMismatch(
        f"column '{path}' has type {data_type.type_text}: expected Arrow {_shown(arrow_type(data_type))}, "
        f"got {_shown(actual)}"
    )


def _fits(data_type: DataType, actual: Any, pa: Any) -> bool:
    """Whether `actual` has the right shape for `data_type` (children are checked by the caller)."""
    types = pa.types
    if isinstance(data_type, StructType):
        return bool(types.is_struct(actual))
    if isinstance(data_type, ArrayType):
        return bool(types.is_list(actual) or types.is_large_list(actual))
    if isinstance(data_type, MapType):
        return bool(types.is_map(actual))
    kind = DELTA_TYPES[data_type.primitive].kind if isinstance(data_type, PrimitiveType) else None
    if isinstance(data_type, StringType) or kind is ValueKind.VARIANT:
        return bool(types.is_string(actual) or types.is_large_string(actual))
    if kind is ValueKind.BINARY:
        return bool(types.is_binary(actual) or types.is_large_binary(actual))
    expected = arrow_type(data_type)
    if types.is_timestamp(expected) and types.is_timestamp(actual):
        same_zone = (expected.tz is None and actual.tz is None) or (
            expected.tz is not None and actual.tz in UTC_NAMES
        )
        return bool(actual.unit == expected.unit and same_zone)
    return bool(actual.equals(expected))


def _shown(arrow: Any) -> str:
    return str(arrow).replace("\n", " ")
