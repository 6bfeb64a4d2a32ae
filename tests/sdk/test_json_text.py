"""JSON record text is checked at the ingest call: one object, real JSON, text the wire can carry.

Encoder-level companions of the live tests in `test_record_values_live.py`: every refusal is an
`InvalidRecordError` saying what is wrong, and what is accepted is sent as the caller wrote it.
"""

from __future__ import annotations

import pytest

from zerobus.encoders import JsonEncoder
from zerobus.encoders.json_text import parse_json_record
from zerobus.errors import InvalidRecordError
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.time_units import IntegerUnits

SCHEMA = schema_from_ddl("id BIGINT NOT NULL, at TIMESTAMP, note STRING", "main.tests.json_text")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "must be an object .*got an array"),
        ("null", "got null"),
        ("true", "got a boolean"),
        ("1.5", "got a number"),
        ('"{}"', "got a string"),
        ("{} {}", "Extra data"),
        ("{}\n[]", "Extra data"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": "\\udfff"}', "lone surrogate"),
        ('{"\\ud800": 1}', "lone surrogate"),
        ('{"a": "\ud800"}', "lone surrogate"),
        ('{"a": 1, "a": 2}', "key 'a' appears more than once"),
        ('{"a": {"b": 1, "b": 1}}', "key 'b' appears more than once"),
        ('{"a": [{"c": 1, "c": 2}]}', "key 'c' appears more than once"),
        ("", "not valid JSON"),
        ("{'a': 1}", "not valid JSON"),
    ],
)
def test_what_is_not_one_json_object_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidRecordError, match=reason):
        parse_json_record(text)
    with pytest.raises(InvalidRecordError, match=reason):
        JsonEncoder().encode(text)


def test_valid_text_is_sent_exactly_as_written() -> None:
    schemaless, checked = JsonEncoder(), JsonEncoder(SCHEMA)
    for text in ('{"id": 1}', ' {"id":2, "note": "\\ud83d\\ude00"} ', '{"id": 3, "note": "\U0001f600"}'):
        assert schemaless.encode(text) == text
        assert checked.encode(text) == text
    assert schemaless.encode(b'{"id": 4}') == '{"id": 4}'
    with pytest.raises(InvalidRecordError, match="not UTF-8"):
        schemaless.encode(b'{"id": "\xff"}')


def test_text_with_a_declared_unit_is_converted_and_rewritten_compactly() -> None:
    encoder = JsonEncoder(SCHEMA, units=IntegerUnits(timestamp="ms"))
    assert encoder.encode('{"id": 1, "at": 1732780800000, "note": "\U0001f600"}') == (
        '{"id":1,"at":1732780800000000,"note":"\U0001f600"}'
    )
    with pytest.raises(InvalidRecordError, match="field 'at': looks like epoch seconds"):
        JsonEncoder(SCHEMA).encode('{"id": 1, "at": 1732780800}')


def test_dicts_render_as_utf8_and_never_as_nan() -> None:
    encoder = JsonEncoder()
    text = encoder.encode({"note": "\U0001f600"})
    assert text == '{"note":"\U0001f600"}'
    assert len(text.encode("utf-8")) == 15  # 12 bytes more if the emoji were \u-escaped
    with pytest.raises(InvalidRecordError, match="cannot be rendered as JSON"):
        encoder.encode({"x": float("nan")})
    with pytest.raises(InvalidRecordError, match="lone surrogate"):
        encoder.encode({"x": "\udc00"})
