"""Every Delta type in the registry is handled by every consumer, and nobody keeps a table of their own.

A new row in `delta_types_table` without support somewhere fails here with the consumer's name:
the parser, the proto layout, the descriptor, the dict encoder, the value converters and server
checks (proto and JSON), the Arrow schema and the Delta writer's rows, the Avro schema (SDK encoder
and server reader), the Pydantic model, and a live round trip through the local server into Delta.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest

from zerobus.codegen.api import json_encoder, model_source, proto_encoder, proto_text
from zerobus.codegen.runtime_model import model_class
from zerobus.encoders.avro_records import AvroEncoder
from zerobus.schema.arrow_types import arrow_schema, arrow_type
from zerobus.schema.avro_types import avro_schema_text
from zerobus.schema.delta_types_table import (
    DELTA_TYPES,
    PARAMETRIC_TYPES,
    DeltaTypeRow,
    ParametricTypeRow,
    ValueKind,
    parametric_type,
    primitive_named,
)
from zerobus.schema.descriptor import message_class
from zerobus.schema.ir import (
    ArrayType,
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
from zerobus.schema.parse import parse_type, schema_from_ddl
from zerobus.schema.python_to_wire import to_wire
from zerobus.schema.typemap import proto_scalar
from zerobus.schema.wire_checks import wire_check
from zerobus.schema.wire_to_python import from_wire
from zerobus.sdk import sync
from zerobus.sdk.shared import TableProperties
from zerobus.server.storage.delta_types import arrow_row_converter
from zerobus.server.validation.avro_checks import compile_avro_schema
from zerobus.server.validation.json_checks import json_batch_check, loads
from zerobus.server.validation.message_checks import batch_check

UTC = dt.timezone.utc


def _sample(row: DeltaTypeRow) -> Any:
    """A valid Python value of the type (what a user puts in a dict or a model)."""
    if row.kind is ValueKind.INTEGER:
        assert row.wire_range is not None
        return row.wire_range[0]  # the range's edge: narrow types must still take it
    if row.kind is ValueKind.FLOATING:
        return 1.5
    if row.kind is ValueKind.BOOLEAN:
        return True
    if row.kind is ValueKind.BINARY:
        return b"\x00\xff"
    if row.kind is ValueKind.DATE:
        return dt.date(1969, 12, 31)
    if row.kind is ValueKind.TIMESTAMP:
        return dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC if row.timezone_aware else None)
    if row.kind is ValueKind.VARIANT:
        return '{"a":[1,null]}'
    raise AssertionError(f"test has no sample value for value kind {row.kind.name} ({row.name}): add one")


_PARAMETRIC_EXAMPLES: dict[type, tuple[DataType, Any]] = {
    DecimalType: (DecimalType(10, 2), decimal.Decimal("-12.50")),
    StringType: (StringType("varchar", 4), "abcd"),
    ArrayType: (ArrayType(PrimitiveType(Primitive.INT)), [1, -2]),
    MapType: (MapType(StringType(), PrimitiveType(Primitive.BIGINT)), {"k": 7}),
    StructType: (StructType((StructField("x", PrimitiveType(Primitive.INT)),)), {"x": 3}),
}


def _parametric_example(row: ParametricTypeRow) -> tuple[DataType, Any]:
    example = _PARAMETRIC_EXAMPLES.get(row.ir_class)
    assert example is not None, f"test has no example of {row.ir_class.__name__}: add one"
    return example


def _cases() -> list[tuple[str, DataType, Any]]:
    cases = [(row.name, PrimitiveType(row.primitive), _sample(row)) for row in DELTA_TYPES.values()]
    for row in PARAMETRIC_TYPES:
        data_type, value = _parametric_example(row)
        cases.append((row.ir_class.__name__, data_type, value))
    return cases


CASES = _cases()


@contextmanager
def _consumer(name: str, case: str) -> Iterator[None]:
    """Failures inside say which consumer does not handle which type."""
    try:
        yield
    except Exception as error:
        pytest.fail(f"consumer {name!r} does not handle {case}: {error!r}")


def _table(data_type: DataType) -> TableSchema:
    return schema_from_ddl(f"id BIGINT NOT NULL, v {data_type.type_text}", "main.types.one_type")


@pytest.mark.parametrize("row", list(DELTA_TYPES.values()), ids=lambda row: row.name)
def test_every_sql_name_of_a_primitive_parses_to_it(row: DeltaTypeRow) -> None:
    for name in row.sql_names:
        with _consumer("parse", f"{row.name} spelled {name}"):
            assert primitive_named(name) is row.primitive
            assert parse_type(name.lower()) == PrimitiveType(row.primitive)
    with _consumer("parse (Unity Catalog type_text)", row.name):
        assert parse_type(row.primitive.type_text) == PrimitiveType(row.primitive)


@pytest.mark.parametrize("row", PARAMETRIC_TYPES, ids=lambda row: row.ir_class.__name__)
def test_every_parametric_type_parses_and_maps(row: ParametricTypeRow) -> None:
    data_type, _value = _parametric_example(row)
    with _consumer("parse", data_type.type_text):
        assert parse_type(data_type.type_text) == data_type
    with _consumer("typemap", data_type.type_text):
        assert parametric_type(data_type) is row
        assert proto_scalar(data_type) is row.proto


@pytest.mark.parametrize(("case", "data_type", "value"), CASES, ids=[case[0] for case in CASES])
def test_every_consumer_handles_every_type(
    case: str, data_type: DataType, value: Any, tmp_path: Path
) -> None:
    schema = _table(data_type)
    with _consumer("parse (DDL)", case):
        assert schema.column("v").type == data_type
    with _consumer("proto layout", case):
        text = proto_text(schema)
        layout_scalar = proto_scalar(data_type)
        assert " v = 2;" in text
        assert layout_scalar is None or f"{layout_scalar.name} v = 2;" in text
    with _consumer("descriptor", case):
        record_class = message_class(schema)
        if isinstance(data_type, PrimitiveType):
            scalar = DELTA_TYPES[data_type.primitive].proto
        else:
            scalar = parametric_type(data_type).proto
        assert proto_scalar(data_type) is scalar
        field = record_class.DESCRIPTOR.fields_by_name["v"]
        assert scalar is None or field.type == scalar.type
    with _consumer("value conversion (to_wire / from_wire)", case):
        wire = to_wire(data_type)(value)
        assert from_wire(data_type)(wire) == value
    with _consumer("dict encoder (proto)", case):
        payload = proto_encoder(schema)({"id": 1, "v": value})
        decoded = record_class.FromString(payload)
    with _consumer("server checks (proto)", case):
        check = wire_check(data_type, "v")
        if check is not None:
            check(wire)
        descriptor_check = batch_check(record_class.DESCRIPTOR, schema.as_struct(), frozenset({"id"}))
        assert descriptor_check is None or descriptor_check([decoded])
    with _consumer("JSON encoder and server checks (JSON)", case):
        text = json_encoder(schema)({"id": 1, "v": value})
        parsed = loads(text)
        json_check = wire_check(data_type, "v", json_mode=True)
        if json_check is not None:
            json_check(parsed["v"])
        assert json_batch_check(schema)([parsed])
    with _consumer("Arrow schema and Delta rows", case):
        assert arrow_schema(schema).field("v").type == arrow_type(data_type)
        convert = arrow_row_converter(schema, json_mode=True)
        row = convert(parsed) if convert is not None else parsed
        assert pa.Table.from_pylist([row], schema=arrow_schema(schema)).num_rows == 1
    with _consumer("Avro schema (SDK encoder and server reader)", case):
        avro_text = avro_schema_text(schema)
        avro_payload = bytes(AvroEncoder(avro_text, schema).encode_record({"id": 1, "v": value}))
        avro_row = compile_avro_schema(avro_text, schema).read(avro_payload)
        assert from_wire(data_type)(avro_row["v"]) == value
    with _consumer("Pydantic model", case):
        model_type = model_class(schema)
        model = model_type(id=1, v=value)
        assert model.to_proto_bytes() == payload
        assert model_type.from_json(model.to_json()) == model
    with _consumer("Pydantic source (zerobus-codegen)", case):
        generated = _import_source(tmp_path / "one_type_models.py", model_source(schema))
        assert generated.OneType(id=1, v=value).to_proto_bytes() == payload


def _import_source(path: Path, source: str) -> ModuleType:
    """Import a generated module as a user would (pydantic resolves its annotations by module name)."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[path.stem]
    return module


def test_a_table_with_every_type_round_trips_through_the_local_server_into_delta(
    zerobus_server: Any, zerobus_table: Callable[..., str]
) -> None:
    columns = ", ".join(f"c{index} {data_type.type_text}" for index, (_, data_type, _) in enumerate(CASES))
    table = zerobus_table(f"id BIGINT NOT NULL, {columns}")
    record = {"id": 1, **{f"c{index}": value for index, (_, _, value) in enumerate(CASES)}}
    sdk = sync.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        stream = sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table)
        )
        stream.ingest_record_offset(record)
        stream.close()
    finally:
        sdk.close()
    (row,) = zerobus_server.rows(table)
    for index, (case, _data_type, value) in enumerate(CASES):
        assert row[f"c{index}"] == value, f"{case} did not round-trip through the server into Delta"


# --- no other module keeps its own table keyed by Delta primitive ---------------------------------

_PACKAGE_ROOTS = ("zerobus", "codegen", "templates")
# A dict literal (or comprehension) keyed by a Primitive member (``Primitive.X: ...``), or a
# table of type names for them (``"LONG": Primitive.BIGINT``, the parser's aliases).
_PRIMITIVE_KEY = re.compile(r"Primitive\.[A-Z_]+\s*:(?!=)\s*\S|[\"'][A-Za-z_]+[\"']\s*:\s*Primitive\.")
# Modules allowed to hold such a table, each with the reason it cannot read the registry.
_ALLOWED: dict[str, str] = {
    "zerobus/schema/delta_types_table.py": "the registry itself",
}


def _sources() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    return sorted(path for top in _PACKAGE_ROOTS for path in (root / top).rglob("*.py"))


def test_no_module_outside_the_registry_keys_a_table_by_delta_primitive() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in _sources():
        relative = path.relative_to(root).as_posix()
        if relative in _ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _PRIMITIVE_KEY.search(line.split("#", 1)[0]):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "per-type tables outside zerobus/schema/delta_types_table.py:\n" + "\n".join(
        offenders
    )


def test_the_guard_sees_a_table_keyed_by_primitive() -> None:
    """The pattern catches the forms such a table takes (and not annotations or slices)."""
    assert _PRIMITIVE_KEY.search("    Primitive.DATE: (1, 2),")
    assert _PRIMITIVE_KEY.search("_EXACT = {Primitive.DOUBLE: float}")
    assert not _PRIMITIVE_KEY.search("def f(p: Primitive) -> None:")
    assert _PRIMITIVE_KEY.search('    "LONG": Primitive.BIGINT,')
    assert not _PRIMITIVE_KEY.search("if primitive is Primitive.DATE:")
