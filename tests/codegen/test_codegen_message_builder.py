"""`message_builder` makes messages from nested wire rows on every supported protobuf version
(protobuf 5 refuses dicts as values of maps whose values are messages)."""

from __future__ import annotations

from zerobus.codegen import message_class, schema_from_ddl
from zerobus.schema.descriptor import message_builder

NESTED = schema_from_ddl(
    "id BIGINT, "
    "m MAP<STRING, STRUCT<q: STRING, mm: MAP<INT, STRUCT<z: INT>>>>, "
    "st STRUCT<m2: MAP<STRING, STRUCT<w: INT>>>, "
    "arr ARRAY<STRUCT<m3: MAP<STRING, STRUCT<v: INT>>>>, "
    "plain STRUCT<a: INT, tags: MAP<STRING, STRING>>",
    "c.s.nested_maps",
)


def test_maps_of_messages_at_any_depth_are_built() -> None:
    cls = message_class(NESTED)
    row = {
        "id": 1,
        "m": {"k": {"q": "v", "mm": {3: {"z": 4}}}},
        "st": {"m2": {"a": {"w": 1}}},
        "arr": [{"m3": {"x": {"v": 2}}}, {"m3": {}}],
        "plain": {"a": 5, "tags": {"t": "u"}},
    }
    message = message_builder(cls)(row)
    assert message.m["k"].q == "v"
    assert message.m["k"].mm[3].z == 4
    assert message.st.m2["a"].w == 1
    assert message.arr[0].m3["x"].v == 2
    assert len(message.arr[1].m3) == 0
    assert dict(message.plain.tags) == {"t": "u"}
    decoded = cls.FromString(message.SerializeToString())
    assert decoded == message


def test_messages_without_maps_of_messages_go_straight_to_the_constructor() -> None:
    schema = schema_from_ddl("id BIGINT, s STRUCT<a: INT>, tags MAP<STRING, BIGINT>", "c.s.simple")
    cls = message_class(schema)
    row = {"id": 7, "s": {"a": 1}, "tags": {"x": 2}}
    assert message_builder(cls)(row) == cls(**row)


def test_already_built_values_are_kept() -> None:
    build = message_builder(message_class(NESTED))
    first = build({"m": {"k": {"q": "v"}}})
    again = build({"m": {"k": first.m["k"]}})
    assert again.m["k"].q == "v"
