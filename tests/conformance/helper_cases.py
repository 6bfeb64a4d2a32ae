"""Calls of the official `generate_proto` helpers, run through both implementations and compared."""

from __future__ import annotations

from typing import Any

__all__ = ["BEYOND_OFFICIAL", "CALLS", "TYPES", "WORDED_DIFFERENTLY"]

# Type text our parser refuses outright ("Unknown column type: ..."), where the official helper
# gets further and words its ValueError differently (an unquoted `a-b` is no Spark identifier).
WORDED_DIFFERENTLY = {"STRUCT<a-b:INT>"}

SCALARS = [
    "INT", "int", "TINYINT", "BYTE", "SMALLINT", "SHORT", "BIGINT", "LONG", "FLOAT", "DOUBLE",
    "STRING", "BOOLEAN", "BINARY", "DATE", "TIMESTAMP", "TIMESTAMP_NTZ", "VARIANT", "Variant",
    "timestamp_ntz", "VARCHAR(255)", "varchar(10)", " INT ",
]  # fmt: skip
CONTAINERS = [
    "ARRAY<STRING>", "array<string>", "ARRAY< STRING >", "ARRAY<INT>", "ARRAY<ARRAY<INT>>",
    "ARRAY<MAP<STRING,INT>>", "ARRAY<STRUCT<a:INT>>", "ARRAY<STRUCT<name:STRING, tags:ARRAY<STRING>>>",
    "MAP<STRING,INT>", "map<string,int>", "MAP<STRING, INT>", "MAP<INT,STRING>", "MAP<BIGINT,DOUBLE>",
    "MAP<BOOLEAN,STRING>", "MAP<STRING,STRUCT<a:INT>>", "MAP<STRING,ARRAY<INT>>",
    "MAP<STRING,MAP<INT,STRING>>", "MAP<MAP<STRING,INT>,STRING>", "MAP<ARRAY<INT>,STRING>",
    "MAP<DOUBLE,STRING>", "MAP<BINARY,INT>", "MAP<DATE,INT>", "MAP<TINYINT,STRING>", "MAP<STRING>",
    "STRUCT<name:STRING>", "STRUCT<name:STRING,age:INT>", "STRUCT<name: STRING, age: INT>",
    "STRUCT<outer:STRUCT<inner:INT>>", "STRUCT<items:ARRAY<STRING>>", "STRUCT<data:MAP<STRING,INT>>",
    "struct<a:int,b:struct<c:array<struct<d:string>>>>", "STRUCT<_:INT>", "STRUCT<__:STRUCT<x:INT>>",
    "STRUCT<a_b_c:STRUCT<x_y:INT>, m:MAP<INT, STRUCT<q:BOOLEAN>>>", "STRUCT<device_info:STRUCT<id:INT>>",
    "UNKNOWN_TYPE", "STRUCT<>", "ARRAY<>", "STRUCT<1a:INT>", "STRUCT<a-b:INT>",
]  # fmt: skip
TYPES = SCALARS + CONTAINERS
NAMES = [
    "field_name",
    "field123",
    "message",
    "string",
    "123field",
    "field-name",
    "field name",
    "_x",
    "max",
    "Max",
]


def _calls() -> list[tuple[str, list[Any]]]:
    calls: list[tuple[str, list[Any]]] = []
    for text in ["hello", "hello_world", "Hello_World", "", "a", "hello__world", "_", "x_1_y", "device_info"]:
        calls.append(("to_pascal_case", [text]))
    for text in TYPES:
        for helper in ("parse_array_type", "parse_map_type", "parse_struct_type"):
            calls.append((helper, [text]))
    for name in NAMES:
        calls.append(("validate_field_name", [name]))
    for text in TYPES:
        for field, nullable, count, level in [
            ("f", True, 0, 0),
            ("items", False, 0, 1),
            ("_", True, 3, 2),
            ("device_info", True, 1, 1),
        ]:
            calls.append(("get_proto_field_info", [field, text, nullable, {"count": count}, level]))
    calls.append(("get_proto_field_info", ["f", "INT", True, {"count": 0}, 101]))
    calls.append(("extract_columns", [{"columns": [{"name": "id", "type_text": "INT", "nullable": False}]}]))
    calls.append(("extract_columns", [{}]))
    calls.append(("extract_columns", [{"columns": [{"name": "id", "type_text": "INT"}]}]))
    tables = [
        [{"name": "id", "type_text": "INT", "nullable": False}, {"name": "name", "type_text": "STRING", "nullable": True}],
        [{"name": "address", "type_text": "STRUCT<city:STRING,zip:INT>", "nullable": True}],
        [
            {"name": "tags", "type_text": "ARRAY<STRING>", "nullable": True},
            {"name": "metadata", "type_text": "MAP<STRING,INT>", "nullable": True},
            {"name": "events", "type_text": "ARRAY<STRUCT<kind:STRING, at:TIMESTAMP>>", "nullable": True},
            {"name": "by_key", "type_text": "MAP<STRING,STRUCT<n:BIGINT, inner:STRUCT<z:DATE>>>", "nullable": False},
        ],
        [{"name": "payload", "type_text": "VARIANT", "nullable": True}, {"name": "x", "type_text": "FLOAT", "nullable": False}],
        [{"name": "bad", "type_text": "ARRAY<ARRAY<INT>>", "nullable": True}],
    ]  # fmt: skip
    for index, columns in enumerate(tables):
        calls.append(("generate_proto_file", [f"Message{index}", columns, f"out{index}.proto"]))
    return calls


# Calls the official helpers refuse (ValueError) and ours answer: types and names our codegen takes.
BEYOND_OFFICIAL: list[tuple[str, list[Any]]] = [
    ("get_proto_field_info", ["price", "DECIMAL(10,2)", True, {"count": 0}, 1]),
    ("get_proto_field_info", ["code", "CHAR(3)", False, {"count": 0}, 1]),
    ("get_proto_field_info", ["n", "INTEGER", True, {"count": 0}, 1]),
    ("get_proto_field_info", ["m", "MAP<DECIMAL(10,2), INT>", True, {"count": 0}, 1]),
    ("get_proto_field_info", ["s", "STRUCT<message:INT, max:STRING>", True, {"count": 0}, 1]),
    ("get_proto_field_info", ["s", "STRUCT<a INT, `b`: STRING>", True, {"count": 0}, 1]),
    (
        "generate_proto_file",
        ["Limits", [{"name": "max", "type_text": "BIGINT", "nullable": True}], "limits.proto"],
    ),
]

CALLS = _calls() + BEYOND_OFFICIAL
