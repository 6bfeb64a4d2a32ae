"""The table's Avro writer schema: the type contract, `TableSchema.avro_schema()` and `--avro`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastavro
import pytest
from click.testing import CliRunner

from zerobus.codegen import avro_schema, load_schema, schema_from_ddl
from zerobus.codegen.cli import ExitCode, main
from zerobus.errors import SchemaError
from zerobus.server.validation.avro_checks import compile_avro_schema

NULLABLE_DEFAULT = {"default": None}


@pytest.mark.parametrize(
    ("ddl_type", "expected"),
    [
        ("TINYINT", "int"),
        ("SMALLINT", "int"),
        ("INT", "int"),
        ("BIGINT", "long"),
        ("FLOAT", "float"),
        ("DOUBLE", "double"),
        ("BOOLEAN", "boolean"),
        ("STRING", "string"),
        ("VARCHAR(10)", "string"),
        ("CHAR(3)", "string"),
        ("BINARY", "bytes"),
        ("VARIANT", "string"),
        ("DATE", {"type": "int", "logicalType": "date"}),
        ("TIMESTAMP", {"type": "long", "logicalType": "timestamp-micros"}),
        ("TIMESTAMP_NTZ", {"type": "long", "logicalType": "local-timestamp-micros"}),
        ("DECIMAL(12,3)", {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}),
        ("ARRAY<BIGINT>", {"type": "array", "items": "long"}),
        ("MAP<STRING,DATE>", {"type": "map", "values": {"type": "int", "logicalType": "date"}}),
        ("MAP<INT,STRING>", {"type": "map", "values": "string"}),  # integral keys travel as text
        (
            "STRUCT<lat:DOUBLE,note:STRING NOT NULL>",
            {
                "type": "record",
                "name": "C",
                "fields": [
                    {"name": "lat", "type": ["null", "double"], "default": None},
                    {"name": "note", "type": "string"},
                ],
            },
        ),
    ],
)
def test_each_delta_type_has_its_avro_type(ddl_type: str, expected: Any) -> None:
    schema = schema_from_ddl(f"id BIGINT NOT NULL, c {ddl_type}", "main.default.t")
    fields = avro_schema(schema)["fields"]
    assert fields[0] == {"name": "id", "type": "long"}
    assert fields[1] == {"name": "c", "type": ["null", expected], "default": None}
    fastavro.parse_schema(avro_schema(schema))


def test_struct_names_stay_unique_and_bad_names_are_refused() -> None:
    schema = schema_from_ddl(
        "home STRUCT<geo:STRUCT<x:INT>>, work STRUCT<geo:STRUCT<y:INT>>", "main.default.places"
    )
    data = avro_schema(schema)
    assert data["name"] == "places"
    home = data["fields"][0]["type"][1]
    work = data["fields"][1]["type"][1]
    assert (home["name"], work["name"]) == ("Home", "Work")
    assert home["fields"][0]["type"][1]["name"] == "Geo"
    assert work["fields"][0]["type"][1]["name"] == "Geo2"
    fastavro.parse_schema(data)
    with pytest.raises(SchemaError, match="not a valid Avro name"):
        avro_schema(schema_from_ddl("`bad-name` INT", "main.default.t"))
    assert avro_schema(schema, record_name="Place")["name"] == "Place"


def test_load_schema_avro_schema_is_json_text_fastavro_and_our_server_accept() -> None:
    columns = "id BIGINT NOT NULL, at TIMESTAMP, amount DECIMAL(10,2) NOT NULL, tags ARRAY<STRUCT<k:STRING>>"
    schema = load_schema("main.default.trades", ddl=columns)
    text = schema.avro_schema()
    assert json.loads(text) == avro_schema(schema)
    fastavro.parse_schema(json.loads(text))
    compile_avro_schema(text, schema)  # the local server's creation check


def test_cli_avro_writes_the_schema_file(tmp_path: Path) -> None:
    columns = "id BIGINT NOT NULL, day DATE"
    args = ["ddl", columns, "--name", "main.default.trades", "--out-dir", str(tmp_path), "--avro"]
    result = CliRunner().invoke(main, [*args, "--no-proto", "--no-models"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["trades.avsc"]
    expected = schema_from_ddl(columns, "main.default.trades").avro_schema()
    assert (tmp_path / "trades.avsc").read_text() == expected
    checked = CliRunner().invoke(main, [*args, "--no-proto", "--no-models", "--check"])
    assert checked.exit_code == 0, checked.output
    drift = CliRunner().invoke(
        main, ["ddl", "id BIGINT", "--name", "main.default.trades", "--out-dir", str(tmp_path), "--avro",
               "--no-proto", "--no-models", "--check"],
    )  # fmt: skip
    assert drift.exit_code == ExitCode.DRIFT


def test_cli_table_avro_against_the_local_server_is_what_it_accepts(
    zerobus_server: Any, zerobus_table: Any, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, price DECIMAL(10,2), day DATE, loc STRUCT<lat:DOUBLE>")
    result = CliRunner().invoke(
        main,
        [
            "table",
            table,
            "--host",
            zerobus_server.workspace_url,
            "--client-id",
            zerobus_server.client_id,
            "--client-secret",
            zerobus_server.client_secret,
            "--avro",
            "--no-proto",
            "--no-models",
            "--out-dir",
            str(tmp_path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    name = table.rsplit(".", 1)[1]
    text = (tmp_path / f"{name}.avsc").read_text()
    assert json.loads(text)["fields"][1] == {
        "name": "price",
        "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}],
        "default": None,
    }
    compile_avro_schema(text, zerobus_server.table_schema(table))
