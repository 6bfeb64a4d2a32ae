"""The AVRO encoder without a server: unions, named types, and the official `zerobus.sdk.shared.avro`."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest

from zerobus.encoders.avro_records import AvroEncoder
from zerobus.errors import ConfigurationError, InvalidRecordError
from zerobus.sdk.shared.avro import AvroEncoder as OfficialAvroEncoder
from zerobus.sdk.shared.avro import make_encoder


def _decode(schema: dict[str, Any], payload: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(payload), fastavro.parse_schema(schema), None)


def test_ambiguous_unions_keep_the_branch_the_value_fits() -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "n", "type": ["null", "int", "long"]}]}
    encoder = AvroEncoder(json.dumps(schema))
    for value in (None, 5, 2**40, -(2**63)):
        assert _decode(schema, encoder.encode_record({"n": value})) == {"n": value}
    assert _decode(schema, encoder.encode_record({"n": ("long", 5)})) == {"n": 5}
    with pytest.raises(InvalidRecordError, match=r"field 'n': matches no branch of the Avro union"):
        encoder.encode_record({"n": "5"})
    with pytest.raises(InvalidRecordError, match=r"field 'n': out of range for Avro int"):
        encoder.encode_record({"n": ("int", 2**40)})


def test_named_types_namespaces_and_recursion() -> None:
    schema = {
        "type": "record",
        "name": "Node",
        "namespace": "com.example",
        "fields": [
            {"name": "value", "type": "long"},
            {"name": "next", "type": ["null", "Node"], "default": None},
            {"name": "id", "type": {"type": "fixed", "name": "Id", "size": 2}},
            {"name": "other", "type": "com.example.Id"},
        ],
    }
    encoder = AvroEncoder(json.dumps(schema))
    record = {"value": 1, "next": {"value": 2, "id": b"ab", "other": b"cd"}, "id": b"ef", "other": b"gh"}
    decoded = _decode(schema, encoder.encode_record(record))
    assert decoded["next"]["value"] == 2 and decoded["next"]["next"] is None
    with pytest.raises(InvalidRecordError, match=r"field 'next.id': expected exactly 2 bytes for fixed Id"):
        encoder.encode_record({**record, "next": {"value": 2, "id": b"abc", "other": b"cd"}})


def test_nested_paths_name_the_index_and_the_key() -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "items", "type": {"type": "array", "items": {"type": "map", "values": "int"}}},
        ],
    }
    encoder = AvroEncoder(json.dumps(schema))
    with pytest.raises(InvalidRecordError, match=r"field 'items\[1\]\['b'\]': expected an integer") as caught:
        encoder.encode_record({"items": [{"a": 1}, {"b": True}]})
    assert caught.value.value is True
    with pytest.raises(InvalidRecordError, match=r"Avro map keys are strings, got int"):
        encoder.encode_record({"items": [{1: 1}]})


def test_the_official_module_names() -> None:
    schema = json.dumps({"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]})
    encoder = make_encoder(schema)
    assert encoder is not None and make_encoder(None) is None
    assert isinstance(encoder, OfficialAvroEncoder)
    assert encoder.encode({"id": 1}) == b"\x02"
    assert encoder.encode(b"\x04") == b"\x04"  # pre-encoded bytes pass through
    assert encoder.encode_batch([{"id": 1}, b"\x04"]) == [b"\x02", b"\x04"]
    with pytest.raises(TypeError, match="payloads must be a list of records"):
        encoder.encode_batch({"id": 1})
    with pytest.raises(ConfigurationError, match="must be an Avro record schema"):
        make_encoder('{"type": "array", "items": "long"}')
