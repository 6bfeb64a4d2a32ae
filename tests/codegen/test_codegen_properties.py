"""Property tests: random valid schemas parse, render and match protoc; random rows round-trip."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.codegen_strategies import any_names, rows, schemas
from tests.codegen.codegen_support import protoc_file, without_empty_containers
from zerobus.codegen import (
    TableSchema,
    codec,
    descriptor_proto,
    model_class,
    model_source,
    proto_text,
    schema_from_ddl,
    schema_from_uc_json,
)
from zerobus.schema.parse import parse_type
from zerobus.schema.proto_layout import layout

# The nested type strategies have long reprs; hypothesis only builds them to label draws.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

# Bounded so the whole codegen suite stays fast; CI runs the same examples every time.
FAST = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(schemas(names=any_names, proto=False))
def test_type_text_ddl_and_uc_json_parse_back_to_the_same_ir(schema: TableSchema) -> None:
    for column in schema.columns:
        assert parse_type(column.type.type_text) == column.type
    assert schema_from_ddl(schema.ddl(), schema.name) == schema
    table = {"full_name": schema.name, "columns": [c.to_uc_json() for c in schema.columns]}
    assert schema_from_uc_json(table) == schema


def _exec_module(source: str, name: str) -> ModuleType:
    module = ModuleType(name)
    exec(compile(source, f"<{name}>", "exec", dont_inherit=True), module.__dict__)
    return module


@FAST
@given(schemas())
def test_random_schemas_render_and_match_protoc(schema: TableSchema) -> None:
    message = layout(schema).name
    with tempfile.TemporaryDirectory() as workdir:
        compiled = protoc_file(proto_text(schema), f"{message}.proto", Path(workdir))
    assert compiled.message_type[0] == descriptor_proto(schema)
    module = _exec_module(model_source(schema), f"generated_{message}")
    runtime = model_class(schema)
    generated = getattr(module, runtime.__name__)
    assert generated.model_json_schema() == runtime.model_json_schema()


@FAST
@given(st.data())
def test_random_rows_round_trip_through_models_proto_and_json(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    row = data.draw(rows(schema))
    model = model_class(schema)
    record = model.model_validate(row)
    wire = record.to_wire()
    assert wire == codec(schema).row_to_wire(row)
    decoded = model.from_proto_bytes(record.to_proto_bytes())
    assert without_empty_containers(schema, decoded.to_wire()) == without_empty_containers(schema, wire)
    assert model.from_json(record.to_json()).to_wire() == wire
    # The dict path gives the same record as the model path.
    assert codec(schema).decode_proto(codec(schema).encode_proto(row)) == codec(schema).decode_proto(
        record.to_proto_bytes()
    )
