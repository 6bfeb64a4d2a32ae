"""The fast record checks agree with the reference check, and errors still name the record.

The server checks a PROTO batch by decoding it whole (`typed_requests`) and running only the
checks the column types need (`message_checks.batch_check`); JSON batches column by column
(`json_checks`). The reference is the record-by-record path: decode, wire row, then
`codegen.values.wire_row_check`. These tests generate tables and records (valid and not) and
require the same verdict, the same record index and the same error text from both.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.codegen.codegen_strategies import rows as valid_rows
from tests.codegen.codegen_strategies import schemas
from zerobus.errors import InvalidRecordError
from zerobus.protocol import EphemeralStreamRequest
from zerobus.schema.delta_types_table import (
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_MICROS,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_MICROS,
)
from zerobus.schema.descriptor import descriptor_proto, message_builder, message_reader
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructType,
    TableSchema,
)
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.python_to_wire import row_to_wire
from zerobus.schema.typemap import INT_RANGES
from zerobus.schema.wire_checks import wire_row_check
from zerobus.server.frontends.typed_requests import TYPED_PACKAGE
from zerobus.server.validation.json_checks import json_batch_check, loads
from zerobus.server.validation.message_checks import batch_check
from zerobus.server.validation.records import (
    JsonRecordCodec,
    ProtoRecordCodec,
    RecordRejected,
    StreamRecordCodec,
)
from zerobus.server.validation.schema_check import compile_descriptor

# The nested type strategies have long reprs; hypothesis only builds them to label draws.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


# --- helpers -----------------------------------------------------------------------------------


def proto_codec(schema: TableSchema, descriptor: bytes | None = None) -> ProtoRecordCodec:
    data = descriptor if descriptor is not None else descriptor_proto(schema).SerializeToString()
    return ProtoRecordCodec(schema, compile_descriptor(data, schema))


def batch_request(records: list[bytes] | list[str]) -> bytes:
    request = EphemeralStreamRequest()
    batch = request.ingest_record_batch
    if records and isinstance(records[0], str):
        batch.json_batch.records.extend(records)
    else:
        batch.proto_encoded_batch.records.extend(records)
    return bytes(request.SerializeToString())


def verdict(check_batch: Any, batch: Any) -> tuple[int, str] | None:
    """(index, error text) of the first rejected record, or None when the batch passes."""
    try:
        check_batch(batch)
    except RecordRejected as rejected:
        return rejected.index, str(rejected.error)
    return None


def reference_verdict(codec: StreamRecordCodec, records: list[bytes] | list[str]) -> tuple[int, str] | None:
    """The oracle: `reference_check` record by record (decode, wire row, `wire_row_check`)."""
    for index, record in enumerate(records):
        try:
            codec.reference_check(record)
        except InvalidRecordError as error:
            return index, str(error)
    return None


def _single(codec: StreamRecordCodec, record: Any) -> None:
    try:
        codec.check(record)
    except InvalidRecordError as error:
        raise RecordRejected(0, error) from None


def proto_verdicts(codec: ProtoRecordCodec, records: list[bytes]) -> tuple[Any, Any]:
    """(fast, reference) verdicts of one PROTO batch."""
    batch = codec.parse_request(batch_request(records)).ingest_record_batch.proto_encoded_batch
    return verdict(codec.check_batch, batch), reference_verdict(codec, records)


# --- wire values, valid or not ------------------------------------------------------------------


def _ints(low: int, high: int, valid: tuple[int, int]) -> st.SearchStrategy[int]:
    """Integers of a proto type's range, often at and just past the column's bounds."""
    edges = [v for v in (valid[0] - 1, valid[0], 0, valid[1], valid[1] + 1) if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high), st.integers(valid[0], valid[1]))


def _decimal_texts(decimal_type: DecimalType) -> st.SearchStrategy[str]:
    integer_digits = decimal_type.precision - decimal_type.scale
    canonical = st.integers(-(10**decimal_type.precision) + 1, 10**decimal_type.precision - 1).map(
        lambda n: f"{n / 10**decimal_type.scale:.{decimal_type.scale}f}" if decimal_type.scale else str(n)
    )
    return st.one_of(
        canonical,
        st.text(alphabet="0123456789.-+eE x", max_size=8),
        st.just("9" * (integer_digits + 1)),
        st.just("0." + "1" * (decimal_type.scale + 1)),
        st.just("1." + "0" * (decimal_type.scale + 2)),
        st.sampled_from(["", "NaN", "-0", " 1 ", "1e2", "00.1"]),
    )


def wire_values(data_type: DataType) -> st.SearchStrategy[Any]:
    """Values a proto field of the column's type can hold: in range or not, text valid or not."""
    if isinstance(data_type, PrimitiveType):
        p = data_type.primitive
        if p in (Primitive.TINYINT, Primitive.SMALLINT, Primitive.INT):
            return _ints(*INT32, valid=INT_RANGES[p])
        if p is Primitive.BIGINT:
            return _ints(*INT64, valid=INT64)
        if p is Primitive.DATE:
            return _ints(*INT32, valid=(MIN_DATE_DAYS, MAX_DATE_DAYS))
        if p in (Primitive.TIMESTAMP, Primitive.TIMESTAMP_NTZ):
            return _ints(*INT64, valid=(MIN_TIMESTAMP_MICROS, MAX_TIMESTAMP_MICROS))
        if p is Primitive.FLOAT:
            return st.floats(width=32)
        if p is Primitive.DOUBLE:
            return st.floats()
        if p is Primitive.BOOLEAN:
            return st.booleans()
        if p is Primitive.BINARY:
            return st.binary(max_size=4)
        return st.one_of(st.sampled_from(['{"a": [1]}', "[]", "1", '""']), st.text(max_size=4))  # VARIANT
    if isinstance(data_type, DecimalType):
        return _decimal_texts(data_type)
    if isinstance(data_type, StringType):
        return st.text(max_size=(data_type.length or 4) + 2)
    if isinstance(data_type, ArrayType):
        return st.lists(wire_values(data_type.element), max_size=3)
    if isinstance(data_type, MapType):
        return st.dictionaries(wire_values(data_type.key), wire_values(data_type.value), max_size=3)
    return wire_structs(data_type)


def wire_structs(struct: StructType) -> st.SearchStrategy[dict[str, Any]]:
    """Members set or not (NOT NULL ones too: the check must notice)."""
    members = {f.name: st.one_of(st.none(), wire_values(f.type)) for f in struct.fields}
    return st.fixed_dictionaries(members).map(lambda row: {k: v for k, v in row.items() if v is not None})


def json_wire_values(data_type: DataType) -> st.SearchStrategy[Any]:
    """Values of a JSON record's column: the right shape (in range or not) or any JSON at all."""
    anything = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
        max_leaves=4,
    )
    if isinstance(data_type, PrimitiveType) and data_type.primitive is Primitive.BINARY:
        shaped: st.SearchStrategy[Any] = st.sampled_from(["AP8=", "***", ""])
    elif isinstance(data_type, PrimitiveType) and data_type.primitive in (Primitive.FLOAT, Primitive.DOUBLE):
        shaped = st.one_of(st.floats(), st.integers(), st.just(1e39), st.just(10**400))
    elif isinstance(data_type, ArrayType):
        shaped = st.lists(st.one_of(st.none(), json_wire_values(data_type.element)), max_size=2)
    elif isinstance(data_type, MapType):
        shaped = st.dictionaries(st.text(max_size=3), json_wire_values(data_type.value), max_size=2)
    elif isinstance(data_type, StructType):
        shaped = st.fixed_dictionaries(
            {f.name: st.one_of(st.none(), json_wire_values(f.type)) for f in data_type.fields}
        )
    else:
        shaped = wire_values(data_type)
    return st.one_of(shaped, shaped, anything)


@st.composite
def mutated_rows(draw: st.DrawFn, schema: TableSchema, json_mode: bool) -> dict[str, Any]:
    """A valid row in wire form, in half of the cases with one column dropped or replaced."""
    row: dict[str, Any] = row_to_wire(schema, json_mode)(draw(valid_rows(schema)))
    if draw(st.booleans()):
        column = draw(st.sampled_from(schema.columns))
        if draw(st.integers(0, 3)) == 0:
            row.pop(column.name, None)
        else:
            row[column.name] = draw((json_wire_values if json_mode else wire_values)(column.type))
    return row


# --- PROTO: the batch check agrees with the reference ---------------------------------------------


@PROPERTY
@given(st.data())
def test_proto_batch_check_agrees_with_the_reference(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    codec = proto_codec(schema)
    compiled = compile_descriptor(descriptor_proto(schema).SerializeToString(), schema)
    build = message_builder(compiled.message_class)
    rows = data.draw(st.lists(mutated_rows(schema, json_mode=False), min_size=1, max_size=4))
    records = [build(row).SerializePartialToString() for row in rows]

    fast, reference = proto_verdicts(codec, records)
    event("rejected" if reference is not None else "accepted")
    assert fast == reference

    # One record alone (an `ingest_record` request) takes the same fast path.
    for record in records:
        assert verdict(lambda r: _single(codec, r), record) == reference_verdict(codec, [record])

    # Exact, not only safe: the batch check says yes exactly when every record passes.
    messages = [compiled.message_class.FromString(r) for r in records]
    check = batch_check(compiled.descriptor, schema.as_struct(), compiled.required_fields)
    fast_yes = all(m.IsInitialized() for m in messages) and (check is None or check(messages))
    assert fast_yes == (reference is None)


def test_a_table_needing_no_check_compiles_no_batch_check() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, n INT, tags ARRAY<BIGINT>, loc STRUCT<x: DOUBLE>", "t")
    compiled = compile_descriptor(descriptor_proto(schema).SerializeToString(), schema)
    assert batch_check(compiled.descriptor, schema.as_struct(), compiled.required_fields) is None


def test_string_columns_are_checked_because_proto2_strings_may_not_be_utf8() -> None:
    """upb hands back bytes for a proto2 string that is not UTF-8; Delta could never store it."""
    schema = schema_from_ddl("id BIGINT NOT NULL, name STRING", "t")
    compiled = compile_descriptor(descriptor_proto(schema).SerializeToString(), schema)
    check = batch_check(compiled.descriptor, schema.as_struct(), compiled.required_fields)
    assert check is not None
    good = compiled.message_class(id=1, name="é").SerializeToString()
    bad = good.replace("é".encode(), b"\xff\xfe")
    assert check([compiled.message_class.FromString(good)])
    assert not check([compiled.message_class.FromString(good), compiled.message_class.FromString(bad)])


# --- PROTO: errors name the record of the batch -------------------------------------------------

NESTED = schema_from_ddl(
    "id BIGINT NOT NULL, name VARCHAR(3), day DATE, "
    "loc STRUCT<lat: DOUBLE NOT NULL, at: TIMESTAMP>, "
    "pts ARRAY<STRUCT<x: SMALLINT, tags: ARRAY<TINYINT>>>, "
    "m MAP<TINYINT, STRUCT<amount: DECIMAL(5,2), doc: VARIANT>>, "
    "scores MAP<STRING, SMALLINT>",
    "main.tests.nested",
)
GOOD = {
    "id": 1,
    "name": "abc",
    "day": 19000,
    "loc": {"lat": 1.0, "at": 1_700_000_000_000_000},
    "pts": [{"x": 1, "tags": [1, 2]}, {"x": 2}],
    "m": {5: {"amount": "123.45", "doc": '{"a": 1}'}},
    "scores": {"k": 7},
}


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"name": "abcd"}, ["field 'name'", "longer than varchar(3)"]),
        ({"day": MAX_DATE_DAYS + 1}, ["field 'day'", "DATE"]),
        ({"loc": {"at": 1}}, ["field 'loc.lat'", "NOT NULL field is missing"]),
        ({"loc": {"lat": 1.0, "at": MIN_TIMESTAMP_MICROS - 1}}, ["field 'loc.at'", "out of range"]),
        ({"pts": [{"x": 1}, {"x": 40000}]}, ["field 'pts[1].x'", "out of range for SMALLINT"]),
        ({"pts": [{"x": 1, "tags": [1, 300]}]}, ["field 'pts[0].tags[1]'", "TINYINT"]),
        ({"m": {200: {}}}, ["field 'm{200}'", "TINYINT"]),
        ({"m": {5: {"amount": "1234.5"}}}, ["field 'm[5].amount'", "integer digits"]),
        ({"m": {5: {"amount": "1.234"}}}, ["field 'm[5].amount'", "fractional digits"]),
        ({"m": {5: {"doc": "{bad"}}}, ["field 'm[5].doc'", "VARIANT takes JSON text"]),
        ({"scores": {"k": -40000}}, ["field 'scores['k']'", "SMALLINT"]),
    ],
)
def test_a_bad_nested_value_is_attributed_to_its_record(change: dict[str, Any], fragments: list[str]) -> None:
    codec = proto_codec(NESTED)
    build = message_builder(codec_class(NESTED))
    records = [build({**GOOD, "id": i}).SerializeToString() for i in range(5)]
    records[3] = build({**GOOD, **change, "id": 3}).SerializePartialToString()
    fast, reference = proto_verdicts(codec, records)
    assert fast == reference
    assert fast is not None and fast[0] == 3
    for fragment in fragments:
        assert fragment in fast[1], fast[1]


def codec_class(schema: TableSchema) -> Any:
    return record_class(schema, descriptor_proto(schema).SerializeToString())


def record_class(schema: TableSchema, descriptor: bytes) -> Any:
    """A message class of the descriptor (in a pool of its own, like the client's)."""
    return compile_descriptor(descriptor, schema).message_class


def test_good_nested_batch_passes_the_fast_path_and_reads_back() -> None:
    codec = proto_codec(NESTED)
    build = message_builder(codec_class(NESTED))
    raw = batch_request([build({**GOOD, "id": i}).SerializeToString() for i in range(3)])
    request = codec.parse_request(raw)
    codec.check_batch(request.ingest_record_batch.proto_encoded_batch)  # no RecordRejected
    rows = [codec.to_row(record) for record in codec.stored_records(raw)]
    assert [row["id"] for row in rows] == [0, 1, 2]
    assert rows[0]["m"] == {5: {"amount": "123.45", "doc": '{"a": 1}'}}
    assert rows[0]["pts"][1] == {"x": 2, "tags": []}


def test_missing_required_column_is_attributed_within_a_batch() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, name STRING", "main.tests.req")
    codec = proto_codec(schema)
    cls = codec_class(schema)
    records = [cls(id=i).SerializeToString() for i in range(4)]
    records[2] = cls(name="no id").SerializePartialToString()
    fast, reference = proto_verdicts(codec, records)
    assert fast == reference == (2, "invalid record: field 'id': NOT NULL field is missing (got None)")


def test_malformed_record_in_a_batch_is_attributed_to_its_index() -> None:
    schema = schema_from_ddl("id BIGINT, at TIMESTAMP", "main.tests.garbage")
    codec = proto_codec(schema)
    cls = codec_class(schema)
    records = [cls(id=i).SerializeToString() for i in range(4)]
    records[1] = b"\x08\x96"  # a varint cut short
    raw = batch_request(records)
    request = codec.parse_request(raw)  # the typed parse fails; the untyped one carries bytes
    batch = request.ingest_record_batch.proto_encoded_batch
    assert list(batch.records) == records
    found = verdict(codec.check_batch, batch)
    assert found is not None and found[0] == 1 and "not a valid proto message" in found[1]


def test_malformed_request_still_fails_to_parse() -> None:
    codec = proto_codec(schema_from_ddl("id BIGINT", "main.tests.bad"))
    from google.protobuf.message import DecodeError

    with pytest.raises(DecodeError):
        codec.parse_request(b"\x1a\x05\x12")


def test_not_null_column_declared_optional_is_checked_in_batches() -> None:
    schema = schema_from_ddl("id BIGINT, name STRING NOT NULL", "main.tests.opt")
    descriptor = descriptor_proto(schema)
    descriptor.field[1].label = descriptor.field[1].LABEL_OPTIONAL
    codec = proto_codec(schema, descriptor.SerializeToString())
    cls = record_class(schema, descriptor.SerializeToString())
    records = [cls(id=1, name="a").SerializeToString(), cls(id=2).SerializeToString()]
    fast, reference = proto_verdicts(codec, records)
    assert fast == reference == (1, "invalid record: field 'name': NOT NULL field is missing (got None)")


def test_explicit_proto2_default_that_fails_the_check_is_not_held_against_unset_fields() -> None:
    # An unset field reads as its declared default; the reference never sees unset fields.
    schema = schema_from_ddl("id BIGINT, small SMALLINT, amount DECIMAL(5,2)", "main.tests.defaults")
    descriptor = descriptor_proto(schema)
    descriptor.field[1].default_value = "70000"
    descriptor.field[2].default_value = "not a number"
    codec = proto_codec(schema, descriptor.SerializeToString())
    cls = record_class(schema, descriptor.SerializeToString())
    records = [cls(id=1).SerializeToString(), cls(id=2, small=5, amount="1.50").SerializeToString()]
    assert proto_verdicts(codec, records) == (None, None)
    records.append(cls(id=3, small=70000).SerializeToString())
    fast, reference = proto_verdicts(codec, records)
    assert fast == reference and fast is not None and fast[0] == 2


def test_case_insensitive_names_are_checked_and_read_by_the_table_spelling() -> None:
    schema = schema_from_ddl("id BIGINT, loc STRUCT<small: SMALLINT>", "main.tests.case")
    descriptor = descriptor_proto(schema)
    descriptor.field[0].name = "ID"
    descriptor.nested_type[0].field[0].name = "SMALL"
    codec = proto_codec(schema, descriptor.SerializeToString())
    cls = record_class(schema, descriptor.SerializeToString())
    good = cls(ID=1, loc={"SMALL": 5}).SerializeToString()
    bad = cls(ID=2, loc={"SMALL": 40000}).SerializeToString()
    fast, reference = proto_verdicts(codec, [good, bad])
    assert fast == reference and fast is not None and fast[0] == 1 and "'loc.small'" in fast[1]
    assert codec.to_row(good) == {"id": 1, "loc": {"small": 5}}


def test_single_record_checks_what_the_log_replays() -> None:
    """A record field sent twice: bytes keep the last one, which is what gets checked and stored."""
    schema = schema_from_ddl("id BIGINT NOT NULL, small SMALLINT", "main.tests.twice")
    codec = proto_codec(schema)
    cls = codec_class(schema)
    first = cls(id=1).SerializeToString()
    second = cls(small=5).SerializePartialToString()  # no id

    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    raw = field(2, field(2, first) + field(2, second))  # ingest_record { record; record }
    single = codec.parse_request(raw).ingest_record
    assert single.proto_encoded_record == second
    with pytest.raises(InvalidRecordError, match="'id'"):
        codec.check(single.proto_encoded_record)


@pytest.mark.parametrize("typed", [True, False], ids=["package-name-only", "clashing-nested-type"])
def test_names_clashing_with_the_private_package(typed: bool) -> None:
    """A clash makes the typed variant impossible: the codec then decodes record by record."""
    columns = "id BIGINT, small SMALLINT" + (", ephemeral_stream_request STRUCT<x: INT>" if not typed else "")
    schema = schema_from_ddl(columns, "main.tests.clash")
    descriptor = descriptor_proto(schema, TYPED_PACKAGE).SerializeToString()
    codec = proto_codec(schema, descriptor)
    assert codec.decodes_batches_at_once is typed
    cls = record_class(schema, descriptor)
    records = [cls(id=1).SerializeToString(), cls(id=2, small=40000).SerializeToString()]
    fast, reference = proto_verdicts(codec, records)
    assert fast == reference and fast is not None and fast[0] == 1 and "'small'" in fast[1]


def test_reader_matches_the_reference_row() -> None:
    """The one message reader (codegen) gives the wire row the reference check runs on."""
    codec = proto_codec(NESTED)
    cls = codec_class(NESTED)
    message = message_builder(cls)(GOOD)
    expected = {**GOOD, "pts": [{"x": 1, "tags": [1, 2]}, {"x": 2, "tags": []}]}  # repeated: always a list
    assert message_reader(cls.DESCRIPTOR, NESTED.as_struct())(message) == expected
    check = wire_row_check(NESTED)
    assert check is not None
    check(codec.to_row(message.SerializeToString()))


# --- JSON ------------------------------------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_json_batch_check_agrees_with_the_reference(data: st.DataObject) -> None:
    schema = data.draw(schemas())
    codec = JsonRecordCodec(schema)
    extra = st.dictionaries(st.sampled_from(["zz_unknown", "ZZ"]), st.integers(), max_size=1)
    rows = data.draw(
        st.lists(
            st.builds(lambda row, more: {**row, **more}, mutated_rows(schema, json_mode=True), extra),
            min_size=1,
            max_size=4,
        )
    )
    records = [json.dumps(row) for row in rows]
    raw = batch_request(records)
    batch = codec.parse_request(raw).ingest_record_batch.json_batch

    reference = reference_verdict(codec, records)
    event("rejected" if reference is not None else "accepted")
    assert verdict(codec.check_batch, batch) == reference
    parsed = [json.loads(r) for r in records]
    assert json_batch_check(schema)(parsed) == (reference is None)


def test_json_bad_record_is_attributed_within_a_batch() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, at TIMESTAMP, f FLOAT", "main.tests.json")
    codec = JsonRecordCodec(schema)
    records = [json.dumps({"id": i, "at": 5, "f": 1.5}) for i in range(5)]
    for bad, fragment in [
        ('{"id": 3, "at": "2024-01-01"}', "field 'at'"),
        ('{"id": 3, "f": 1e39}', "FLOAT (32-bit)"),
        ('{"at": 1}', "field 'id': NOT NULL field is missing"),
        ('{"id": 3,', "not valid JSON"),
        ("[1]", "must be an object"),
        ('{"id": 3, "x": 1}', "field 'x': unknown field"),
    ]:
        batch = codec.parse_request(batch_request([*records[:3], bad, records[4]])).ingest_record_batch
        found = verdict(codec.check_batch, batch.json_batch)
        assert found is not None and found[0] == 3 and fragment in found[1], (bad, found)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.text(max_size=6),
        st.builds(
            lambda before, value, after: before + json.dumps(value) + after,
            st.sampled_from(["", " ", "\ufeff", "\n"]),
            st.recursive(
                st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=3),
                lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner),
                max_leaves=4,
            ),
            st.sampled_from(["", " ", "x", "}", " 1"]),
        ),
    )
)
def test_loads_is_json_loads(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError as error:
        with pytest.raises(ValueError) as raised:
            loads(text)
        assert str(raised.value) == str(error)
        return
    assert _same(loads(text), expected)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_values_the_check_cannot_compute_with_reject_the_record() -> None:
    """Not an internal error (retryable): the record is rejected like any bad value, naming the field."""
    schema = schema_from_ddl("id BIGINT, amount DECIMAL(1,0), d DOUBLE", "main.tests.arith")
    cls = codec_class(schema)
    records = [cls(id=1).SerializeToString(), cls(id=2, amount="1E100").SerializeToString()]
    fast, reference = proto_verdicts(proto_codec(schema), records)
    assert fast == reference and fast is not None and fast[0] == 1
    assert "field 'amount': needs 101 integer digits" in fast[1]
    codec = JsonRecordCodec(schema)
    batch = codec.parse_request(batch_request(['{"id": 1}', '{"id": 2, "d": 1' + "0" * 400 + "}"]))
    found = verdict(codec.check_batch, batch.ingest_record_batch.json_batch)
    assert found is not None and found[0] == 1 and "field 'd': out of range for DOUBLE" in found[1]
