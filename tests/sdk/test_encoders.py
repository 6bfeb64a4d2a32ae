"""Record encoders: every record shape, precise errors, descriptor resolution (no server)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from types import ModuleType
from typing import Any

import pydantic
import pytest
from google.protobuf import descriptor_pb2, timestamp_pb2

from zerobus.codegen.runtime_model import model_class
from zerobus.encoders import (
    JsonEncoder,
    ProtoEncoder,
    check_self_contained,
    choose_encoder,
    record_schema_from_table,
    resolve_record_schema,
    schema_from_descriptor,
)
from zerobus.errors import InvalidRecordError, SchemaError
from zerobus.protocol import RecordTypeValue
from zerobus.schema.parse import schema_from_ddl

DDL = (
    "id BIGINT NOT NULL, name VARCHAR(5), day DATE, at TIMESTAMP, local TIMESTAMP_NTZ, amount DECIMAL(6,2), "
    "tags ARRAY<STRING>, attrs MAP<STRING,INT>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>, small SMALLINT, "
    "ratio FLOAT, doc VARIANT, raw BINARY, ok BOOLEAN"
)
SCHEMA = schema_from_ddl(DDL, "main.default.rich")
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def proto() -> ProtoEncoder:
    encoder = choose_encoder(SCHEMA, RecordTypeValue.PROTO)
    assert isinstance(encoder, ProtoEncoder)
    return encoder


def decode(encoder: ProtoEncoder, payload: bytes | str) -> Any:
    assert isinstance(payload, bytes)
    return encoder.message_class.FromString(payload)


def test_dicts_convert_only_what_needs_converting(proto: ProtoEncoder) -> None:
    message = decode(
        proto,
        proto.encode(
            {
                "id": 7,
                "name": "abc",
                "day": dt.date(1970, 1, 11),
                "at": dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
                "local": dt.datetime(1970, 1, 1, 0, 0, 2),
                "amount": decimal.Decimal("3.1"),
                "tags": ("x", "y"),
                "attrs": {"a": 1},
                "loc": {"lat": 1.0, "lon": 2.0},
                "small": -300,
                "ratio": 0.5,
                "doc": {"nested": [1, 2]},
                "raw": b"\x01",
                "ok": True,
            }
        ),
    )
    assert (message.id, message.name, message.day) == (7, "abc", 10)
    assert (message.at, message.local) == (1_000_000, 2_000_000)
    assert message.amount == "3.10" and list(message.tags) == ["x", "y"] and dict(message.attrs) == {"a": 1}
    assert (message.loc.lat, message.small, message.ratio) == (1.0, -300, 0.5)
    assert json.loads(message.doc) == {"nested": [1, 2]} and message.raw == b"\x01" and message.ok
    # A caller's dict is never changed by the conversion.
    record = {"id": 1, "day": dt.date(2020, 1, 1)}
    proto.encode(record)
    assert record == {"id": 1, "day": dt.date(2020, 1, 1)}


@pytest.mark.parametrize(
    ("record", "field", "reason"),
    [
        ({"name": "x"}, "id", "NOT NULL field is missing"),
        ({"id": None}, "id", "NOT NULL field is null"),
        ({"id": "7"}, "id", "expected an integer for BIGINT"),
        ({"id": 1.5}, "id", "expected an integer"),
        ({"id": 1, "name": "toolong"}, "name", "longer than varchar(5)"),
        ({"id": 1, "small": 40000}, "small", "out of range for SMALLINT"),
        ({"id": 1, "day": "yesterday"}, "day", "not an ISO date"),
        ({"id": 1, "at": dt.datetime(2020, 1, 1)}, "at", "timezone-aware"),
        ({"id": 1, "amount": decimal.Decimal("12345.6")}, "amount", "integer digits"),
        ({"id": 1, "tags": "abc"}, "tags", "expected a list"),
        ({"id": 1, "tags": ["a", None]}, "tags[1]", "null elements"),
        ({"id": 1, "attrs": {"k": "v"}}, "attrs['k']", "expected an integer"),
        ({"id": 1, "loc": {"lat": "north"}}, "loc.lat", "expected a number"),
        ({"id": 1, "ratio": 1e39}, "ratio", "out of range for FLOAT"),
        ({"id": 1, "raw": "text"}, "raw", "expected bytes"),
        ({"id": 1, "ok": "yes"}, "ok", "expected a boolean"),
        ({"id": 1, "surprise": 1}, "surprise", "unknown field"),
    ],
)
def test_bad_dicts_name_field_value_and_reason(
    proto: ProtoEncoder, record: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidRecordError) as raised:
        proto.encode(record)
    assert raised.value.field == field
    assert reason in raised.value.reason
    assert isinstance(raised.value, ValueError)


def test_messages_bytes_models_and_json_text(proto: ProtoEncoder) -> None:
    cls = proto.message_class
    assert decode(proto, proto.encode(cls(id=1, name="m"))).name == "m"
    raw = cls(id=2).SerializeToString()
    assert proto.encode(raw) is raw and proto.encode(bytearray(raw)) == raw
    assert decode(proto, proto.encode(memoryview(raw))).id == 2
    model = model_class(SCHEMA)
    assert decode(proto, proto.encode(model(id=3, day=dt.date(1970, 1, 2)))).day == 1

    class Mine(pydantic.BaseModel):
        id: int
        day: dt.date | None = None

    assert decode(proto, proto.encode(Mine(id=4, day=dt.date(1970, 1, 3)))).day == 2
    assert decode(proto, proto.encode('{"id": 5, "day": 4}')).day == 4
    with pytest.raises(InvalidRecordError, match="not valid JSON"):
        proto.encode("{nope")
    with pytest.raises(InvalidRecordError, match="must be an object"):
        proto.encode("[1, 2]")
    with pytest.raises(InvalidRecordError, match="cannot encode a int"):
        proto.encode(12)
    with pytest.raises(InvalidRecordError, match=r"google.protobuf.Timestamp"):
        proto.encode(timestamp_pb2.Timestamp())
    with pytest.raises(InvalidRecordError, match="required"):
        proto.encode(cls(name="no id"))


def test_batches_encode_every_record_and_count_bytes(proto: ProtoEncoder) -> None:
    payloads, size = proto.encode_many([{"id": 1}, {"id": 2}])
    assert len(payloads) == 2 and size == sum(map(len, payloads))
    cls = proto.message_class
    messages = [cls(id=i, name=f"n{i}") for i in range(3)]
    direct, _ = proto.encode_many(iter(messages))  # the stream's own messages: the direct path
    assert direct == [message.SerializeToString() for message in messages]
    mixed, _ = proto.encode_many(m for m in [messages[0], {"id": 7}, messages[1].SerializeToString()])
    assert [decode(proto, payload).id for payload in mixed] == [0, 7, 1]
    with pytest.raises(InvalidRecordError, match="required"):  # still named, from inside a batch
        proto.encode_many([messages[0], cls(name="no id")])
    with pytest.raises(InvalidRecordError, match="list of records"):
        proto.encode_many("not a list")  # type: ignore[arg-type]


def test_json_encoder_with_and_without_schema() -> None:
    plain = JsonEncoder()
    assert plain.encode('{"a": 1}') == '{"a": 1}'
    rendered = json.loads(
        plain.encode(
            {
                "d": dt.date(1970, 1, 3),
                "t": dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
                "n": dt.datetime(1970, 1, 1, 0, 0, 3),
                "m": decimal.Decimal("1.50"),
                "b": b"\xff",
            }
        )
    )
    assert rendered == {
        "d": 2,
        "t": 1_000_000,
        "n": 3_000_000,
        "m": "1.50",
        "b": base64.b64encode(b"\xff").decode(),
    }
    assert json.loads(plain.encode(b'{"x": 2}')) == {"x": 2}
    with pytest.raises(InvalidRecordError, match="cannot be rendered as JSON"):
        plain.encode({"x": object()})
    with pytest.raises(InvalidRecordError, match="JSON stream takes"):
        plain.encode(3.5)

    checked = choose_encoder(SCHEMA, RecordTypeValue.JSON)
    assert isinstance(checked, JsonEncoder) and checked.descriptor_proto is None
    assert json.loads(checked.encode({"id": 1, "raw": b"\x00", "amount": 2})) == {
        "id": 1,
        "raw": "AA==",
        "amount": "2.00",
    }
    with pytest.raises(InvalidRecordError) as raised:
        checked.encode('{"id": 1, "day": "2024-01-01"}')
    assert raised.value.field == "day"
    with pytest.raises(InvalidRecordError, match="NOT NULL"):
        checked.encode({"name": "x"})
    model = model_class(SCHEMA)
    assert json.loads(checked.encode(model(id=9, tags=["t"]))) == {"id": 9, "tags": ["t"]}


def test_record_type_unspecified_follows_the_descriptor() -> None:
    assert choose_encoder(None, RecordTypeValue.UNSPECIFIED).record_type == RecordTypeValue.JSON
    assert choose_encoder(SCHEMA, RecordTypeValue.UNSPECIFIED).record_type == RecordTypeValue.PROTO
    fetched = choose_encoder(None, RecordTypeValue.PROTO, fetch_schema=lambda: SCHEMA)
    assert fetched.record_type == RecordTypeValue.PROTO and fetched.schema == SCHEMA


def test_descriptor_inputs_resolve_to_the_same_message() -> None:
    from_table = record_schema_from_table(SCHEMA)
    cls = from_table.message_class
    proto = descriptor_pb2.DescriptorProto.FromString(from_table.descriptor_proto)
    for given in (cls.DESCRIPTOR, cls, proto, from_table.descriptor_proto, SCHEMA, model_class(SCHEMA)):
        resolved = resolve_record_schema(given)
        assert resolved is not None
        assert resolved.descriptor_proto == from_table.descriptor_proto, type(given)
    file_proto = descriptor_pb2.FileDescriptorProto(name="one.proto")
    file_proto.message_type.add().CopyFrom(proto)
    resolved = resolve_record_schema(file_proto.SerializeToString())
    assert resolved is not None and resolved.full_name == proto.name
    file_proto.message_type.add(name="Second")
    with pytest.raises(SchemaError, match="2 messages"):
        resolve_record_schema(file_proto.SerializeToString())
    with pytest.raises(SchemaError, match="not supported"):
        resolve_record_schema(3.14)


def test_compiled_descriptor_is_checked_and_read_back(events_pb2: ModuleType) -> None:
    resolved = resolve_record_schema(events_pb2.Event.DESCRIPTOR)
    assert resolved is not None and resolved.full_name == "tests.sdk.Event"
    assert descriptor_pb2.DescriptorProto.FromString(resolved.descriptor_proto).name == "Event"
    assert schema_from_descriptor(events_pb2.Event.DESCRIPTOR).ddl() == "id bigint not null, name string"
    encoder = ProtoEncoder(resolved)
    assert events_pb2.Event.FromString(encoder.encode({"id": 3})).id == 3
    assert encoder.direct_class is events_pb2.Event  # the user's own class takes the direct path
    with pytest.raises(InvalidRecordError, match="'id'"):
        encoder.encode({"id": "three"})


def test_descriptors_must_be_self_contained() -> None:
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="uses_timestamp.proto", package="t", dependency=["google/protobuf/timestamp.proto"]
    )
    message = file_proto.message_type.add(name="Rec")
    message.field.add(
        name="at",
        number=1,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE,
        type_name=".google.protobuf.Timestamp",
    )
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.DescriptorPool()
    timestamp_file = descriptor_pb2.FileDescriptorProto()
    timestamp_pb2.DESCRIPTOR.CopyToProto(timestamp_file)
    pool.Add(timestamp_file)
    pool.Add(file_proto)
    with pytest.raises(SchemaError, match=r"column 'at'.*google.protobuf.Timestamp.*4033"):
        check_self_contained(pool.FindMessageTypeByName("t.Rec"))
    with pytest.raises(SchemaError, match="self-contained"):
        resolve_record_schema(message)  # a DescriptorProto pointing outside itself


def test_maps_of_structs_from_dicts_on_every_protobuf_version() -> None:
    # protobuf 5 refuses a dict as the value of a map whose values are messages.
    schema = schema_from_ddl(
        "id BIGINT, sites MAP<STRING, STRUCT<lat: DOUBLE, tags: MAP<STRING, STRUCT<n: INT>>>>", "m.s.t"
    )
    encoder = choose_encoder(schema, RecordTypeValue.PROTO)
    assert isinstance(encoder, ProtoEncoder)
    message = decode(
        encoder, encoder.encode({"id": 1, "sites": {"ams": {"lat": 52.4, "tags": {"a": {"n": 3}}}}})
    )
    assert message.sites["ams"].lat == 52.4
    assert message.sites["ams"].tags["a"].n == 3


def test_other_pydantic_models_use_column_names_not_attribute_names() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, class STRING", "m.s.aliased")

    class Row(pydantic.BaseModel):
        id: int
        class_: str = pydantic.Field(alias="class")

    row = Row.model_validate({"id": 1, "class": "gold"})
    proto_encoder = choose_encoder(schema, RecordTypeValue.PROTO)
    assert isinstance(proto_encoder, ProtoEncoder)
    assert getattr(decode(proto_encoder, proto_encoder.encode(row)), "class") == "gold"
    json_encoder = choose_encoder(schema, RecordTypeValue.JSON)
    assert json.loads(json_encoder.encode(row)) == {"id": 1, "class": "gold"}


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("a", True, "expected an integer for INT, got bool"),
        ("b", False, "expected an integer for BIGINT, got bool"),
        ("d", True, "expected a number for DOUBLE, got bool"),
        ("ok", 1, "expected a boolean, got int"),
        ("s", b"x", "expected a string, got bytes"),
        ("raw", "x", "expected bytes for BINARY, got str"),
    ],
)
def test_dicts_get_no_silent_coercion_from_the_protobuf_runtime(column: str, value: Any, reason: str) -> None:
    # The message constructor would store True as 1.0, 1 as True, bytes as a string (and on
    # protobuf 5, True as 1): the table contract refuses them, naming the field.
    schema = schema_from_ddl("a INT, b BIGINT, d DOUBLE, s STRING, ok BOOLEAN, raw BINARY", "m.s.exact")
    encoder = choose_encoder(schema, RecordTypeValue.PROTO)
    assert isinstance(encoder, ProtoEncoder)
    with pytest.raises(InvalidRecordError, match=reason) as caught:
        encoder.encode({column: value})
    assert caught.value.field == column
    message = decode(encoder, encoder.encode({"d": 3, "raw": bytearray(b"q"), "a": 7}))
    assert (message.d, message.raw, message.a) == (3.0, b"q", 7)
