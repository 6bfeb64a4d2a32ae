"""The materializer hands Arrow wire values where Arrow reads them the same (days, microseconds):
the Arrow table must equal the one built from fully converted Python values."""

from __future__ import annotations

import decimal
import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.codegen_strategies import rows, schemas
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.python_to_wire import row_to_wire
from zerobus.schema.wire_to_python import row_from_wire
from zerobus.server.storage.delta_types import arrow_row_converter, arrow_schema

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.booleans())
def test_arrow_rows_equal_fully_converted_rows(data: st.DataObject, json_mode: bool) -> None:
    schema = data.draw(schemas())
    wire_rows = [row_to_wire(schema, json_mode)(row) for row in data.draw(st.lists(rows(schema), max_size=3))]
    if json_mode:  # what the server sees: JSON text parsed back (map keys become text)
        wire_rows = [json.loads(json.dumps(row)) for row in wire_rows]
    arrow = arrow_schema(schema)
    convert = arrow_row_converter(schema, json_mode)
    fast = pa.Table.from_pylist([r if convert is None else convert(r) for r in wire_rows], schema=arrow)
    reference = pa.Table.from_pylist([row_from_wire(schema, json_mode)(r) for r in wire_rows], schema=arrow)
    assert fast.equals(reference)


def test_flat_tables_need_no_conversion_but_decimals_and_json_binary_do() -> None:
    flat = schema_from_ddl(
        "id BIGINT, day DATE, at TIMESTAMP, wall TIMESTAMP_NTZ, raw BINARY, tags ARRAY<DATE>", "t"
    )
    assert arrow_row_converter(flat, json_mode=False) is None
    convert = arrow_row_converter(flat, json_mode=True)
    assert convert is not None and convert({"id": 1, "raw": "AP8="}) == {"id": 1, "raw": b"\x00\xff"}
    money = schema_from_ddl("id BIGINT, amount DECIMAL(5,2), m MAP<INT, STRING>", "t")
    convert = arrow_row_converter(money, json_mode=True)
    assert convert is not None
    assert convert({"amount": "1.50", "m": {"7": "x"}}) == {"amount": decimal.Decimal("1.50"), "m": {7: "x"}}
