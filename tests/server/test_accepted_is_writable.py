"""Whatever the record checks accept, the materializer can write to Delta; poison is refused.

Valid rows of random tables get poison put into random places: lone surrogates and control
characters in strings (values, map keys, DECIMAL and VARIANT text), NaN and Infinity in float
positions, integers no column holds, and, for PROTO records, bytes that are not UTF-8 in any
string field. Each record goes through the server's own codec (fast and reference checks); an
accepted one then goes the materializer's way (`to_row`, the Arrow converter) into a real Delta
table in a temporary directory.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.codegen.codegen_strategies import rows as valid_rows
from tests.codegen.codegen_strategies import schemas
from tests.server.test_record_checks import batch_request, proto_codec, verdict
from zerobus.errors import InvalidRecordError
from zerobus.schema.descriptor import descriptor_proto, message_builder
from zerobus.schema.ir import ArrayType, DataType, MapType, Primitive, PrimitiveType, StructType, TableSchema
from zerobus.schema.python_to_wire import row_to_wire
from zerobus.schema.unicode_text import has_lone_surrogate
from zerobus.server.storage.delta_types import arrow_row_converter, arrow_schema
from zerobus.server.validation.records import JsonRecordCodec, StreamRecordCodec
from zerobus.server.validation.schema_check import compile_descriptor

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MARK = "\x01MARKS\x01"
NOT_UTF8 = b"\xff\xfe\xed\xa0\x80\xc0\xaf"  # as long as MARK in UTF-8

surrogates = st.integers(0xD800, 0xDFFF).map(chr)
odd_text = st.text(
    alphabet=st.one_of(st.characters(), surrogates, st.sampled_from("\x00\x1f\x7f\u2028\ufeff")),
    max_size=5,
)
# VARIANT text that Python's json module reads but JSON does not have.
NOT_JSON = ["NaN", "[Infinity]", '{"a": -Infinity}', '"\\ud800"', '["\\udfff", 1]']
not_json = st.sampled_from(NOT_JSON)


@st.composite
def poisoned(draw: st.DrawFn, value: Any, data_type: DataType, proto: bool, must_refuse: list[str]) -> Any:
    """`value` (a wire value of `data_type`) with, here and there, something no Delta column holds.

    Poison the server must refuse is noted in `must_refuse`.
    """
    if isinstance(data_type, ArrayType):
        return [draw(poisoned(item, data_type.element, proto, must_refuse)) for item in value]
    if isinstance(data_type, MapType):
        return {
            draw(poisoned(key, data_type.key, proto, must_refuse)): draw(
                poisoned(item, data_type.value, proto, must_refuse)
            )
            for key, item in value.items()
        }
    if isinstance(data_type, StructType):
        types = {f.name: f.type for f in data_type.fields}
        return {name: draw(poisoned(item, types[name], proto, must_refuse)) for name, item in value.items()}
    if isinstance(value, str):
        if draw(st.integers(0, 3)) != 0:
            return value
        if proto:
            must_refuse.append("bytes that are not UTF-8")
            return MARK  # becomes bytes that are not UTF-8 once serialized
        variant = isinstance(data_type, PrimitiveType) and data_type.primitive is Primitive.VARIANT
        text = draw(st.one_of(odd_text, not_json)) if variant else draw(odd_text)
        if has_lone_surrogate(json.loads(json.dumps(text))):  # an escaped pair is one character again
            must_refuse.append(f"lone surrogate in {text!r}")
        elif variant and text in NOT_JSON:
            must_refuse.append(f"VARIANT text {text!r}")
        return text
    if isinstance(value, float) and not proto:
        number = draw(st.sampled_from([value, value, math.nan, math.inf, -math.inf]))
        if not math.isfinite(number):
            must_refuse.append(f"{number} for a float")
        return number
    if isinstance(value, int) and not isinstance(value, bool) and not proto:
        return draw(st.sampled_from([value, value, value, 2**64, -(2**70)]))
    return value


def _poisoned_row(
    draw: Any, schema: TableSchema, row: dict[str, Any], proto: bool, must_refuse: list[str]
) -> Any:
    return draw(poisoned(row, schema.as_struct(), proto, must_refuse))


def _accepted(codec: StreamRecordCodec, record: Any) -> bool:
    try:
        codec.check(record)
    except InvalidRecordError:
        return False
    return True


def _write(schema: TableSchema, codec: StreamRecordCodec, records: list[Any], json_mode: bool) -> None:
    """Materialise `records` the way the materializer does, into a real Delta table."""
    from deltalake import DeltaTable

    from zerobus.server.storage.delta_append import append_commit
    from zerobus.server.storage.delta_read import open_dataset

    convert = arrow_row_converter(schema, json_mode)
    found = [codec.to_row(record) for record in records]
    data = pa.Table.from_pylist(
        [r if convert is None else convert(r) for r in found], schema=arrow_schema(schema)
    )
    with tempfile.TemporaryDirectory() as directory:
        try:
            DeltaTable.create(directory, schema=arrow_schema(schema))  # as the server creates its tables
        except Exception as error:
            # deltalake cannot create a table with TIMESTAMP_NTZ inside a MAP/ARRAY/STRUCT (no
            # 'timestampNtz' feature); the server refuses to create such a table: nothing to write.
            assert "timestampNtz" in str(error), error
            event("table deltalake cannot create")
            return
        append_commit(Path(directory), data, "materializer", 0)
        assert open_dataset(directory).to_table().equals(data)


@PROPERTY
@given(st.data())
def test_accepted_json_records_are_writable_and_poison_is_refused(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    codec = JsonRecordCodec(schema)
    wire = [
        row_to_wire(schema, json_mode=True)(row)
        for row in data.draw(st.lists(valid_rows(schema), max_size=3))
    ]
    texts, accepted = [], []
    for row in wire:
        must_refuse: list[str] = []
        text = json.dumps(_poisoned_row(data.draw, schema, row, False, must_refuse))
        texts.append(text)
        if _accepted(codec, text):
            assert not must_refuse, (must_refuse, text)
            accepted.append(text)
    event(f"accepted {len(accepted)} of {len(texts)}")
    batch = codec.parse_request(batch_request(texts)).ingest_record_batch.json_batch if texts else None
    if batch is not None:
        assert (verdict(codec.check_batch, batch) is None) == (len(accepted) == len(texts))
    if accepted:
        _write(schema, codec, accepted, json_mode=True)


@PROPERTY
@given(st.data())
def test_accepted_proto_records_are_writable_and_bytes_that_are_not_utf8_are_refused(
    data: st.DataObject,
) -> None:
    schema = data.draw(schemas())
    codec = proto_codec(schema)
    message_class = compile_descriptor(descriptor_proto(schema).SerializeToString(), schema).message_class
    build = message_builder(message_class)
    wire = [
        row_to_wire(schema)(row) for row in data.draw(st.lists(valid_rows(schema), min_size=1, max_size=3))
    ]
    records = []
    for row in wire:
        raw = bytes(build(_poisoned_row(data.draw, schema, row, True, [])).SerializeToString())
        records.append(raw.replace(MARK.encode(), NOT_UTF8))
    verdicts = [_accepted(codec, record) for record in records]
    event(f"accepted {sum(verdicts)} of {len(records)}")
    for record, accepted in zip(records, verdicts, strict=True):
        assert accepted == (NOT_UTF8 not in record), record
    batch = codec.parse_request(batch_request(records)).ingest_record_batch.proto_encoded_batch
    assert (verdict(codec.check_batch, batch) is None) == all(verdicts)
    good = [record for record, accepted in zip(records, verdicts, strict=True) if accepted]
    if good:
        _write(schema, codec, good, json_mode=False)
