"""Parsing UC type text, column DDL and Spark JSON: every spelling, nesting, and clear errors."""

from __future__ import annotations

import json

import pytest

from zerobus.codegen import (
    ArrayType,
    Column,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
    TableSchema,
    check_schema,
    load_schema,
    schema_from_ddl,
    schema_from_uc_json,
)
from zerobus.errors import SchemaError
from zerobus.schema.parse import parse_type
from zerobus.schema.uc_json import parse_type_json

P = Primitive

SPELLINGS = [
    ("TINYINT", PrimitiveType(P.TINYINT)),
    ("byte", PrimitiveType(P.TINYINT)),
    ("SMALLINT", PrimitiveType(P.SMALLINT)),
    ("Short", PrimitiveType(P.SMALLINT)),
    ("INT", PrimitiveType(P.INT)),
    ("integer", PrimitiveType(P.INT)),
    ("BIGINT", PrimitiveType(P.BIGINT)),
    ("LONG", PrimitiveType(P.BIGINT)),
    ("FLOAT", PrimitiveType(P.FLOAT)),
    ("real", PrimitiveType(P.FLOAT)),
    ("DOUBLE", PrimitiveType(P.DOUBLE)),
    ("double precision", PrimitiveType(P.DOUBLE)),
    ("BOOLEAN", PrimitiveType(P.BOOLEAN)),
    ("BINARY", PrimitiveType(P.BINARY)),
    ("DATE", PrimitiveType(P.DATE)),
    ("TIMESTAMP", PrimitiveType(P.TIMESTAMP)),
    ("timestamp_ltz", PrimitiveType(P.TIMESTAMP)),
    ("TIMESTAMP_NTZ", PrimitiveType(P.TIMESTAMP_NTZ)),
    ("Variant", PrimitiveType(P.VARIANT)),
    ("STRING", StringType()),
    ("string collate UTF8_LCASE", StringType()),
    ("VARCHAR(12)", StringType("varchar", 12)),
    ("char(3)", StringType("char", 3)),
    ("CHARACTER(2)", StringType("char", 2)),
    ("DECIMAL", DecimalType(10, 0)),
    ("decimal(5)", DecimalType(5, 0)),
    ("DECIMAL(10,2)", DecimalType(10, 2)),
    ("numeric( 38 , 38 )", DecimalType(38, 38)),
    ("dec(1,0)", DecimalType(1, 0)),
]


@pytest.mark.parametrize(("text", "expected"), SPELLINGS)
def test_every_spelling_parses(text: str, expected: object) -> None:
    assert parse_type(text) == expected
    assert parse_type(text.upper() if text.islower() else text.lower()) == expected


def test_nested_types_to_any_depth() -> None:
    text = "ARRAY<STRUCT<`a b`:INT NOT NULL COMMENT 'it''s', c: MAP<STRING, STRUCT<d: ARRAY<DECIMAL(4,1)>>>>>"
    expected = ArrayType(
        StructType(
            (
                StructField("a b", PrimitiveType(P.INT), nullable=False, comment="it's"),
                StructField(
                    "c",
                    MapType(
                        StringType(),
                        StructType((StructField("d", ArrayType(DecimalType(4, 1))),)),
                    ),
                ),
            )
        )
    )
    parsed = parse_type(text)
    assert parsed == expected
    assert parse_type(parsed.type_text) == parsed


def test_struct_fields_with_and_without_colons_and_back_quotes() -> None:
    parsed = parse_type("struct<a int, b: string, `c``d`: bigint, `1x`:int>")
    assert isinstance(parsed, StructType)
    assert [f.name for f in parsed.fields] == ["a", "b", "c`d", "1x"]


def test_column_ddl_with_not_null_comments_and_keyword_names() -> None:
    schema = schema_from_ddl(
        "device_name STRING NOT NULL COMMENT 'Sensor', temp INT, `date` DATE, map MAP<INT,INT> NULL, "
        'comment STRING COMMENT "double \\"quoted\\""',
        "main.default.t",
    )
    assert schema.columns == (
        Column("device_name", StringType(), False, "Sensor", 0),
        Column("temp", PrimitiveType(P.INT), True, None, 1),
        Column("date", PrimitiveType(P.DATE), True, None, 2),
        Column("map", MapType(PrimitiveType(P.INT), PrimitiveType(P.INT)), True, None, 3),
        Column("comment", StringType(), True, 'double "quoted"', 4),
    )
    assert schema_from_ddl(schema.ddl(), schema.name) == schema


@pytest.mark.parametrize(
    ("text", "column", "reason"),
    [
        ("interval day to second", "col", "INTERVAL has no Zerobus representation"),
        ("GEOMETRY(4326)", "col", "GEOMETRY has no Zerobus representation"),
        ("geography", "col", "GEOGRAPHY has no Zerobus representation"),
        ("void", "col", "VOID has no Zerobus representation"),
        ("array<struct<x: interval year>>", "col.element.x", "INTERVAL"),
        ("map<string, struct<deep: struct<y: object>>>", "col.value.deep.y", "OBJECT"),
        ("struct<a: int, A: string>", "col.A", "duplicate name"),
        ("decimal(39,2)", "col", "precision must be 1..38"),
        ("decimal(3,4)", "col", "scale 4 exceeds precision 3"),
        ("varchar(0)", "col", "length must be at least 1"),
        ("array<int", "col", "expected '>'"),
        ("struct<a: int default 1>", "col.a", "not supported by Zerobus (error 1015)"),
        ("uuid", "col", "unknown type 'uuid'"),
        ("int int", "col", "unexpected 'int' after the type"),
    ],
)
def test_errors_name_the_column_path_and_reason(text: str, column: str, reason: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_type(text, "col")
    assert caught.value.column == column
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("ddl", "column", "reason"),
    [
        ("a int, A string", "A", "duplicate name"),
        ("a int generated always as (1)", "a", "error 1015"),
        ("a", "a", "expected a type"),
        ("a int b", "a", "expected ',' or end of text"),
        ("a array<array<int>>", "a", "ARRAY<ARRAY<...>> is not supported"),
        ("a array<map<int,int>>", "a", "ARRAY<MAP<...>> is not supported"),
        ("a map<string, array<int>>", "a", "values are ARRAY"),
        ("a map<string, map<int,int>>", "a", "values are MAP"),
        ("a map<double, int>", "a", "map key type double"),
        ("a map<binary, int>", "a", "map key type binary"),
        ("a map<struct<x:int>, int>", "a", "map key type"),
        ("s struct<inner: struct<>>", "s.inner", "empty STRUCT"),
        ("`odd name` int", "odd name", "not a valid protobuf identifier"),
        ("`_0` map<string, int>", "_0", "entry message '0Entry'"),
        ("a_b int, aB int", "aB", "both have the protobuf JSON name"),
        ("s struct<x_y: int, xY: int>", "s.xY", "both have the protobuf JSON name"),
    ],
)
def test_loading_rejects_what_zerobus_cannot_carry(ddl: str, column: str, reason: str) -> None:
    with pytest.raises(SchemaError) as caught:
        load_schema("main.default.t", ddl=ddl)
    assert caught.value.column == column
    assert reason in str(caught.value)


def test_check_can_be_skipped_for_json_only_names() -> None:
    schema = load_schema("main.default.t", ddl="`odd name` int", check=False)
    assert schema.columns[0].name == "odd name"
    with pytest.raises(SchemaError):
        check_schema(schema)


def _uc_table(columns: list[dict[str, object]]) -> dict[str, object]:
    return {"name": "t", "catalog_name": "main", "schema_name": "default", "columns": columns}


def test_uc_json_uses_type_json_position_and_comments() -> None:
    schema = schema_from_ddl(
        "id BIGINT NOT NULL COMMENT 'key', tags ARRAY<CHAR(2)>, s STRUCT<a: VARCHAR(3), b: MAP<STRING, CHAR(1)>>",
        "main.default.t",
    )
    columns = [c.to_uc_json() for c in reversed(schema.columns)]
    parsed = schema_from_uc_json(_uc_table(columns))
    assert parsed == schema
    # type_text alone (older answers) gives the same IR.
    for column in columns:
        del column["type_json"]
    assert schema_from_uc_json(_uc_table(columns)) == schema


def test_uc_json_keeps_spark_nested_nullability() -> None:
    type_json = {
        "name": "tags",
        "type": {"type": "array", "elementType": "long", "containsNull": False},
        "nullable": False,
        "metadata": {"comment": "from type_json"},
    }
    column = {
        "name": "tags",
        "type_text": "array<bigint>",
        "type_json": json.dumps(type_json),
        "nullable": False,
    }
    schema = schema_from_uc_json(_uc_table([column]))
    assert schema.name == "main.default.t"
    assert schema.columns[0].type == ArrayType(PrimitiveType(P.BIGINT), contains_null=False)
    assert schema.columns[0].nullable is False


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([], "table JSON must be an object"),
        ({"full_name": "a.b.c"}, "has no 'columns' list"),
        ({"columns": [{"name": "x", "type_text": "int"}]}, "neither 'full_name' nor 'name'"),
        ({"full_name": "a.b.c", "columns": ["x"]}, "column #0 of 'a.b.c' is not a JSON object"),
        ({"full_name": "a.b.c", "columns": [{"type_text": "int"}]}, "has no name"),
        ({"full_name": "a.b.c", "columns": [{"name": "x"}]}, "neither 'type_json' nor 'type_text'"),
        (
            {"full_name": "a.b.c", "columns": [{"name": "x", "type_json": "{bad"}]},
            "'type_json' is not valid JSON",
        ),
        (
            {
                "full_name": "a.b.c",
                "columns": [{"name": "x", "type_json": '{"name":"x","type":"interval day"}'}],
            },
            "INTERVAL has no Zerobus representation",
        ),
    ],
)
def test_malformed_uc_json_is_a_schema_error(table: object, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        schema_from_uc_json(table)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_non_numeric_positions_fall_back_to_list_order() -> None:
    columns = [
        {"name": "c", "type_text": "int", "position": 2},
        {"name": "b", "type_text": "int", "position": "x"},
        {"name": "a", "type_text": "int", "position": 0},
    ]
    schema = schema_from_uc_json({"full_name": "a.b.c", "columns": columns})
    assert [c.name for c in schema.columns] == ["a", "b", "c"]
    assert [c.position for c in schema.columns] == [0, 1, 2]


def test_spark_json_types() -> None:
    assert parse_type_json("integer") == PrimitiveType(P.INT)
    assert parse_type_json("timestamp_ntz") == PrimitiveType(P.TIMESTAMP_NTZ)
    assert parse_type_json("decimal(7,3)") == DecimalType(7, 3)
    assert parse_type_json({"type": "map", "keyType": "string", "valueType": "variant"}) == MapType(
        StringType(), PrimitiveType(P.VARIANT)
    )
    with pytest.raises(SchemaError, match="unrecognised Spark JSON type"):
        parse_type_json({"type": "udt", "class": "x"}, "col")


def test_table_schema_renders_back_to_ddl() -> None:
    schema = TableSchema(
        "t",
        (
            Column("a b", StructType((StructField("it's", StringType(), False, "a 'quote' \\ here"),))),
            Column("n", DecimalType(4, 2), False),
        ),
    )
    assert schema_from_ddl(schema.ddl(), "t") == TableSchema(
        "t", (schema.columns[0], Column("n", DecimalType(4, 2), False, position=1))
    )
