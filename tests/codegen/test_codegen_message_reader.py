"""`message_reader` turns any decoded message into a wire row: the inverse of `message_builder`,
shared by the codegen record codecs and the local server (which keys rows by the table's
spelling of each column, matched case-insensitively at every level)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from zerobus.codegen import message_class, schema_from_ddl
from zerobus.schema.descriptor import descriptor_proto, is_repeated, message_builder, message_reader
from zerobus.schema.records import message_to_wire

NESTED = schema_from_ddl(
    "id BIGINT NOT NULL, name STRING, "
    "m MAP<STRING, STRUCT<q: STRING, mm: MAP<INT, STRUCT<z: INT>>>>, "
    "st STRUCT<m2: MAP<STRING, STRUCT<w: INT>>, flag BOOLEAN>, "
    "arr ARRAY<STRUCT<m3: MAP<STRING, STRUCT<v: INT>>, n ARRAY<BIGINT>>>, "
    "tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>",
    "c.s.reader",
)
ROW = {
    "id": 1,
    "m": {"k": {"q": "v", "mm": {3: {"z": 4}}}},
    "st": {"m2": {"a": {"w": 1}}, "flag": False},
    "arr": [{"m3": {"x": {"v": 2}}, "n": [5, 6]}, {}],
    "tags": ["a", "b"],
    "attrs": {"x": 2},
}
# What the reader gives back: repeated fields and maps always (proto cannot tell empty from NULL).
READ = {
    "id": 1,
    "m": {"k": {"q": "v", "mm": {3: {"z": 4}}}},
    "st": {"m2": {"a": {"w": 1}}, "flag": False},
    "arr": [{"m3": {"x": {"v": 2}}, "n": [5, 6]}, {"m3": {}, "n": []}],
    "tags": ["a", "b"],
    "attrs": {"x": 2},
}


def test_reader_inverts_the_builder_at_any_depth() -> None:
    cls = message_class(NESTED)
    message = cls.FromString(message_builder(cls)(ROW).SerializeToString())
    row = message_reader(cls.DESCRIPTOR)(message)
    assert row == READ
    assert message_builder(cls)(row) == message


def test_unset_singular_fields_are_absent_and_set_defaults_present() -> None:
    cls = message_class(NESTED)
    read = message_reader(cls.DESCRIPTOR)
    assert read(cls(id=0)) == {"id": 0, "m": {}, "arr": [], "tags": [], "attrs": {}}
    assert read(cls(id=0, name=""))["name"] == ""
    assert read(cls(id=0, st={}))["st"] == {"m2": {}}


def test_keys_follow_declaration_order() -> None:
    cls = message_class(NESTED)
    row = message_reader(cls.DESCRIPTOR)(message_builder(cls)({**ROW, "name": "n"}))
    assert list(row) == ["id", "name", "m", "st", "arr", "tags", "attrs"]


def test_struct_gives_the_tables_spelling_at_every_level() -> None:
    proto = descriptor_proto(NESTED)
    renames = {"id": "ID", "st": "St", "flag": "FLAG", "n": "N", "w": "W", "q": "Q"}

    def shout(message: descriptor_pb2.DescriptorProto) -> None:
        for field in message.field:
            field.name = renames.get(field.name, field.name)
        for nested in message.nested_type:
            shout(nested)

    shout(proto)
    cls = _load(proto)
    build = message_builder(cls)  # protobuf 5 refuses dicts as map values in the constructor
    message = build(
        {"ID": 1, "St": {"FLAG": True, "m2": {"a": {"W": 3}}}, "arr": [{"N": [1]}], "m": {"k": {"Q": "v"}}}
    )
    assert message_reader(cls.DESCRIPTOR)(message)["St"] == {"FLAG": True, "m2": {"a": {"W": 3}}}
    row = message_reader(cls.DESCRIPTOR, NESTED.as_struct())(message)
    assert row == {
        "id": 1,
        "m": {"k": {"q": "v", "mm": {}}},
        "st": {"m2": {"a": {"w": 3}}, "flag": True},
        "arr": [{"m3": {}, "n": [1]}],
        "tags": [],
        "attrs": {},
    }


def test_recursive_message_types_are_read() -> None:
    """A user's own descriptor may be recursive (ours never are)."""
    node = descriptor_pb2.DescriptorProto(name="Node")
    f = descriptor_pb2.FieldDescriptorProto
    node.field.add(name="v", number=1, label=f.LABEL_OPTIONAL, type=f.TYPE_INT64)
    node.field.add(name="kids", number=2, label=f.LABEL_REPEATED, type=f.TYPE_MESSAGE, type_name=".Node")
    node.field.add(name="next", number=3, label=f.LABEL_OPTIONAL, type=f.TYPE_MESSAGE, type_name=".Node")
    cls = _load(node)
    message = cls(v=1, kids=[cls(v=2, kids=[cls(v=3)])], next=cls(next=cls(v=4)))
    assert message_reader(cls.DESCRIPTOR)(message) == {
        "v": 1,
        "kids": [{"v": 2, "kids": [{"v": 3, "kids": []}]}],
        "next": {"kids": [], "next": {"v": 4, "kids": []}},
    }


def test_message_to_wire_keeps_its_signature() -> None:
    cls = message_class(NESTED)
    message = message_builder(cls)(ROW)
    assert message_to_wire(message) == READ


def test_is_repeated_on_this_protobuf() -> None:
    fields = message_class(NESTED).DESCRIPTOR.fields_by_name
    assert is_repeated(fields["tags"]) and is_repeated(fields["attrs"])
    assert not is_repeated(fields["id"]) and not is_repeated(fields["st"])


def _load(message: descriptor_pb2.DescriptorProto) -> Any:
    pool = descriptor_pool.DescriptorPool()
    file_proto = descriptor_pb2.FileDescriptorProto(name=f"t/{message.name}.proto", syntax="proto2")
    file_proto.message_type.add().CopyFrom(message)
    pool.Add(file_proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(message.name))
