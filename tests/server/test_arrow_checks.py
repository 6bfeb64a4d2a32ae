"""The Arrow schema check, batch check and conform step, on random tables and rows (no sockets).

For any table of the contract: its own Arrow schema and batches built with it pass, and the same
data in a looser but accepted layout (64-bit offsets, other name case, struct members in
another order, list child named "item") passes too and conforms back to exactly the table's data.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.codegen_strategies import rows, schemas
from zerobus.schema.python_to_wire import row_to_wire
from zerobus.server.storage.delta_types import arrow_row_converter
from zerobus.server.validation.arrow_batches import BatchRejected, check_batch, conform
from zerobus.server.validation.arrow_schema_check import ArrowSchemaMismatch, check_arrow_schema

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def _relaxed(array: pa.Array) -> pa.Array:
    """The same values in another layout the server accepts."""
    mask = array.is_null() if array.null_count else None
    kind = array.type
    if pa.types.is_struct(kind):
        children = [_relaxed(array.field(i)) for i in range(kind.num_fields)][::-1]
        names = [kind.field(i).name.upper() for i in range(kind.num_fields)][::-1]
        return pa.StructArray.from_arrays(children, names=names, mask=mask)
    if pa.types.is_map(kind):
        return pa.MapArray.from_arrays(array.offsets, _relaxed(array.keys), _relaxed(array.items), mask=mask)
    if pa.types.is_list(kind):
        offsets = array.offsets.cast(pa.int64())
        return pa.LargeListArray.from_arrays(offsets, _relaxed(array.values), mask=mask)
    if pa.types.is_string(kind):
        return array.cast(pa.large_string())
    if pa.types.is_binary(kind):
        return array.cast(pa.large_binary())
    return array


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_tables_own_and_looser_layouts_pass_and_conform_to_the_same_data(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    target = schema.arrow_schema()
    convert = arrow_row_converter(schema, json_mode=False)
    wire_rows: list[dict[str, Any]] = [
        row_to_wire(schema, False)(row) for row in data.draw(st.lists(rows(schema), max_size=4))
    ]
    strict = pa.Table.from_pylist([r if convert is None else convert(r) for r in wire_rows], schema=target)
    batch = (
        strict.combine_chunks().to_batches()[0]
        if strict.num_rows
        else pa.RecordBatch.from_pylist([], schema=target)
    )
    check_arrow_schema(schema, target)
    check_batch(schema, batch)
    assert conform(schema, strict) is strict

    columns = [_relaxed(batch.column(i)) for i in range(batch.num_columns)][::-1]
    names = [name.upper() for name in batch.schema.names][::-1]
    loose = pa.RecordBatch.from_arrays(columns, names=names)
    check_arrow_schema(schema, loose.schema)
    check_batch(schema, loose)
    conformed = conform(schema, pa.Table.from_batches([loose]))
    assert conformed.schema.equals(target)
    assert conformed.equals(strict)


def test_a_mismatch_deep_inside_names_the_path() -> None:
    from zerobus.schema.parse import schema_from_ddl

    schema = schema_from_ddl("m MAP<STRING, STRUCT<a: ARRAY<STRUCT<b: DATE>>>>", "main.t.t")
    deep = pa.struct([("b", pa.timestamp("us"))])
    actual = pa.schema([("m", pa.map_(pa.string(), pa.struct([("a", pa.list_(deep))])))])
    with pytest.raises(
        ArrowSchemaMismatch, match=r"column 'm\.value\.a\.element\.b' has type date: expected Arrow date32"
    ):
        check_arrow_schema(schema, actual)


def test_a_null_deep_inside_a_not_null_member_names_the_row() -> None:
    from zerobus.schema.parse import schema_from_ddl

    schema = schema_from_ddl("id INT, pts ARRAY<STRUCT<x: INT NOT NULL>>", "main.t.t")
    target = schema.arrow_schema()
    batch = pa.RecordBatch.from_pylist(
        [{"id": 1, "pts": [{"x": 1}]}, {"id": 2, "pts": None}, {"id": 3, "pts": [{"x": 2}, {"x": None}]}],
        schema=pa.schema([("id", pa.int32()), ("pts", pa.list_(pa.struct([("x", pa.int32())])))]),
    )
    check_arrow_schema(schema, batch.schema)
    with pytest.raises(BatchRejected) as rejected:
        check_batch(schema, batch)
    assert rejected.value.row == 2 and rejected.value.error.field == "pts.element.x"
    assert conform(schema, pa.Table.from_batches([batch.slice(0, 2)])).schema.equals(target)
