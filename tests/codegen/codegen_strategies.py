"""Hypothesis strategies: random valid table schemas, and random valid rows for a schema."""

from __future__ import annotations

import datetime as dt
import json
import keyword
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from zerobus.codegen import (
    ArrayType,
    Column,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
)
from zerobus.schema.proto_layout import json_name
from zerobus.schema.typemap import INT_RANGES

UTC = dt.timezone.utc

# Names that are protobuf identifiers, with keywords and awkward Python names mixed in.
proto_names = st.one_of(
    # Not `_0...`: protobuf would name a map entry `0Entry`, which layout rightly rejects.
    st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(lambda n: not n.lstrip("_")[:1].isdigit()),
    st.sampled_from(
        ["class", "from", "message", "string", "json", "copy", "model_config", "Field", "_", "XY"]
    ),
)
# Any name (type text back-quotes what needs it).
any_names = st.text(min_size=1, max_size=8)

comments = st.one_of(st.none(), st.text(max_size=12))

_PRIMITIVES = [PrimitiveType(p) for p in Primitive]
scalar_types: st.SearchStrategy[DataType] = st.one_of(
    st.sampled_from(_PRIMITIVES),
    st.builds(
        lambda p, s: DecimalType(p, min(s, p)),
        st.integers(1, 38),
        st.integers(0, 38),
    ),
    st.sampled_from([StringType()]),
    st.builds(StringType, st.sampled_from(["varchar", "char"]), st.integers(1, 40)),
)
# Map keys: types whose proto scalar is integral, bool or string.
key_types: st.SearchStrategy[DataType] = st.one_of(
    st.sampled_from(
        [
            PrimitiveType(p)
            for p in (
                Primitive.TINYINT,
                Primitive.SMALLINT,
                Primitive.INT,
                Primitive.BIGINT,
                Primitive.BOOLEAN,
                Primitive.DATE,
                Primitive.TIMESTAMP,
                Primitive.TIMESTAMP_NTZ,
            )
        ]
        + [StringType()]
    ),
    st.builds(lambda p, s: DecimalType(p, min(s, p)), st.integers(1, 18), st.integers(0, 6)),
    st.builds(StringType, st.just("varchar"), st.integers(1, 10)),
)


def _unique_fields(
    names: st.SearchStrategy[str], types: st.SearchStrategy[DataType], proto: bool
) -> st.SearchStrategy[tuple[StructField, ...]]:
    keys: tuple[Any, ...] = (str.lower, json_name) if proto else (str.lower,)
    return st.lists(
        st.builds(StructField, names, types, st.booleans(), comments),
        min_size=1,
        max_size=4,
        unique_by=tuple(lambda f, k=k: k(f.name) for k in keys),
    ).map(tuple)


def data_types(
    names: st.SearchStrategy[str] = proto_names, proto: bool = True, depth: int = 3
) -> st.SearchStrategy[DataType]:
    """Types valid under the contract (no ARRAY<ARRAY>, no ARRAY<MAP>, maps of scalars/structs)."""
    if depth == 0:
        return scalar_types
    inner = data_types(names, proto, depth - 1)
    structs = _unique_fields(names, inner, proto).map(StructType)
    element = st.one_of(scalar_types, structs)
    strategy = st.one_of(
        scalar_types,
        scalar_types,
        st.builds(ArrayType, element),
        st.builds(MapType, key_types, element),
        structs,
    )
    return strategy


@st.composite
def schemas(draw: st.DrawFn, names: st.SearchStrategy[str] = proto_names, proto: bool = True) -> TableSchema:
    fields = draw(
        st.lists(
            st.builds(StructField, names, data_types(names, proto), st.booleans(), comments),
            min_size=1,
            max_size=6,
            unique_by=(lambda f: f.name.lower(), lambda f: json_name(f.name))
            if proto
            else (lambda f: f.name.lower()),
        )
    )
    columns = tuple(Column(f.name, f.type, f.nullable, f.comment, i) for i, f in enumerate(fields))
    table = draw(
        st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n))
    )
    return TableSchema(f"main.props.{table}", columns)


# --- values ----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def _decimals(decimal_type: DecimalType) -> st.SearchStrategy[Decimal]:
    bound = 10**decimal_type.precision - 1
    # Exact: Decimal arithmetic would round to the default context's 28 digits.
    return st.integers(-bound, bound).map(lambda n: Decimal(f"{n}E-{decimal_type.scale}"))


def values(data_type: DataType, as_key: bool = False) -> st.SearchStrategy[Any]:
    """Valid Python values of a column type (what a model or a dict row holds)."""
    if isinstance(data_type, PrimitiveType):
        p = data_type.primitive
        if p in (Primitive.TINYINT, Primitive.SMALLINT, Primitive.INT, Primitive.BIGINT):
            low, high = INT_RANGES[p]
            return st.integers(low, high)
        if p is Primitive.FLOAT:
            return st.floats(width=32, allow_nan=False, allow_infinity=False)
        if p is Primitive.DOUBLE:
            return st.floats(allow_nan=False, allow_infinity=False)
        if p is Primitive.BOOLEAN:
            return st.booleans()
        if p is Primitive.BINARY:
            return st.binary(max_size=8)
        if p is Primitive.DATE:
            return st.dates()
        if p is Primitive.TIMESTAMP:
            return st.datetimes(
                min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.just(UTC)
            )
        if p is Primitive.TIMESTAMP_NTZ:
            return st.datetimes()
        # VARIANT: JSON text, or a value written as JSON (not None: that is SQL NULL).
        if as_key:
            return json_values.map(json.dumps)
        return st.one_of(
            json_values.map(json.dumps),
            json_values.filter(lambda v: v is not None and not isinstance(v, str)),
        )
    if isinstance(data_type, DecimalType):
        return _decimals(data_type)
    if isinstance(data_type, StringType):
        return st.text(max_size=data_type.length if data_type.length is not None else 10)
    if isinstance(data_type, ArrayType):
        return st.lists(values(data_type.element), max_size=3)
    if isinstance(data_type, MapType):
        return st.dictionaries(values(data_type.key, as_key=True), values(data_type.value), max_size=3)
    return struct_values(data_type.fields)


def struct_values(fields: tuple[StructField, ...]) -> st.SearchStrategy[dict[str, Any]]:
    entries = {}
    for f in fields:
        entries[f.name] = values(f.type) if not f.nullable else st.one_of(st.none(), values(f.type))
    return st.fixed_dictionaries(entries)


def rows(schema: TableSchema) -> st.SearchStrategy[dict[str, Any]]:
    return struct_values(schema.as_struct().fields)
