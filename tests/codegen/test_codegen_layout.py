"""The proto2 layout: field numbers, labels, nested names, map entries, and protoc agreeing."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from tests.codegen.codegen_support import protoc_file
from zerobus.codegen import (
    Column,
    Primitive,
    PrimitiveType,
    TableSchema,
    descriptor_proto,
    proto_text,
    schema_from_ddl,
)
from zerobus.errors import SchemaError
from zerobus.schema.proto_layout import layout

F = descriptor_pb2.FieldDescriptorProto


def test_field_numbers_skip_the_reserved_range(tmp_path: Path) -> None:
    columns = tuple(Column(f"c{i}", PrimitiveType(Primitive.INT), position=i) for i in range(19002))
    schema = TableSchema("main.default.wide", columns)
    numbers = [f.number for f in layout(schema).fields]
    assert numbers[:3] == [1, 2, 3]
    assert numbers[18997:] == [18998, 18999, 20000, 20001, 20002]
    compiled = protoc_file(proto_text(schema), "wide.proto", tmp_path)
    assert compiled.message_type[0] == descriptor_proto(schema)


def test_labels_follow_nullability_only_at_the_top_level() -> None:
    schema = schema_from_ddl(
        "a INT NOT NULL, b INT, s STRUCT<x: INT NOT NULL, y: INT> NOT NULL, arr ARRAY<INT> NOT NULL, "
        "m MAP<STRING, INT> NOT NULL",
        "main.default.t",
    )
    message = descriptor_proto(schema)
    labels = {f.name: f.label for f in message.field}
    assert labels == {
        "a": F.LABEL_REQUIRED,
        "b": F.LABEL_OPTIONAL,
        "s": F.LABEL_REQUIRED,
        "arr": F.LABEL_REPEATED,
        "m": F.LABEL_REPEATED,
    }
    nested = {n.name: n for n in message.nested_type}
    # Struct members are always optional, even NOT NULL ones (as the official tool writes them).
    assert [f.label for f in nested["S"].field] == [F.LABEL_OPTIONAL, F.LABEL_OPTIONAL]
    assert nested["MEntry"].options.map_entry


def test_types_of_every_scalar() -> None:
    schema = schema_from_ddl(
        "t TINYINT, s SMALLINT, i INT, b BIGINT, f FLOAT, d DOUBLE, z BOOLEAN, bin BINARY, st STRING, "
        "v VARCHAR(3), c CHAR(2), dec DECIMAL(5,2), day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, var VARIANT",
        "main.default.t",
    )
    types = [f.type for f in descriptor_proto(schema).field]
    assert types == [
        F.TYPE_INT32,
        F.TYPE_INT32,
        F.TYPE_INT32,
        F.TYPE_INT64,
        F.TYPE_FLOAT,
        F.TYPE_DOUBLE,
        F.TYPE_BOOL,
        F.TYPE_BYTES,
        F.TYPE_STRING,
        F.TYPE_STRING,
        F.TYPE_STRING,
        F.TYPE_STRING,
        F.TYPE_INT32,
        F.TYPE_INT64,
        F.TYPE_INT64,
        F.TYPE_STRING,
    ]


def test_nested_message_names_are_pascal_case_declared_in_the_parent() -> None:
    schema = schema_from_ddl(
        "device_info STRUCT<geo_point: STRUCT<lat: DOUBLE>>, readings ARRAY<STRUCT<v: INT>>, "
        "by_key MAP<STRING, STRUCT<w: INT>>",
        "main.default.t",
    )
    message = descriptor_proto(schema)
    assert [n.name for n in message.nested_type] == ["DeviceInfo", "Readings", "ByKey", "ByKeyEntry"]
    device = message.nested_type[0]
    assert [n.name for n in device.nested_type] == ["GeoPoint"]
    assert device.field[0].type_name == ".t.DeviceInfo.GeoPoint"
    entry = message.nested_type[3]
    assert entry.field[1].type_name == ".t.ByKey"


def test_clashing_nested_names_get_a_suffix_and_underscore_names_a_counter(tmp_path: Path) -> None:
    schema = schema_from_ddl(
        "x_y STRUCT<v: INT>, XY STRING, tags_entry STRUCT<a: INT>, tags MAP<STRING, INT>, "
        "`_` STRUCT<b: INT>, s STRUCT<`__`: STRUCT<d: INT>>, `_0` STRUCT<e: INT>",
        "main.default.t",
    )
    message = layout(schema)
    # Like the official tool: `Struct<n>`, n counting every struct so far (x_y, tags_entry, _, s, __,
    # _0); also for `_0`, whose PascalCase `0` is no identifier (the official tool writes `message 0`).
    assert [m.name for m in message.nested] == ["XY2", "TagsEntry2", "Struct3", "S", "Struct6"]
    assert [m.name for m in message.nested[3].nested] == ["Struct5"]
    compiled = protoc_file(proto_text(schema), "t.proto", tmp_path)
    assert compiled.message_type[0] == descriptor_proto(schema)


def test_message_name_defaults_to_the_table_and_is_validated() -> None:
    schema = schema_from_ddl("a INT", "main.default.air_quality")
    assert descriptor_proto(schema).name == "air_quality"
    assert descriptor_proto(schema, "AirQuality").name == "AirQuality"
    assert proto_text(schema, "AirQuality").splitlines()[2] == "message AirQuality {"
    with pytest.raises(SchemaError, match="not a valid protobuf identifier"):
        layout(schema, "air-quality")
    with pytest.raises(SchemaError, match="not a valid protobuf identifier"):
        layout(schema_from_ddl("a INT", "main.default.1table"))


def test_keyword_field_names_compile(tmp_path: Path) -> None:
    schema = schema_from_ddl(
        "message STRING, optional INT, string STRING, `map` STRUCT<`repeated`: INT>, `true` BOOLEAN",
        "main.default.keywords",
    )
    compiled = protoc_file(proto_text(schema), "keywords.proto", tmp_path)
    assert compiled.message_type[0] == descriptor_proto(schema)
