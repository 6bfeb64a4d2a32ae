"""`zerobus.tools.generate_proto` offers the official module's helper functions with its results.

The differential test runs every call of `helper_cases.CALLS` through the official module (in
its own venv) and through ours, and requires the same result, or the same kind of error in the
official wording. The other tests pin the behaviour without the official SDK, including what ours
takes beyond it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conformance.helper_cases import BEYOND_OFFICIAL, CALLS, WORDED_DIFFERENTLY
from tests.conformance.official_helpers_script import call
from tests.support.official_sdk import require_official_sdk_python, run_official
from zerobus.codegen import proto_text
from zerobus.schema.parse import schema_from_ddl
from zerobus.tools import generate_proto as tool

SCRIPT = Path(__file__).with_name("official_helpers_script.py")


@pytest.mark.official_sdk
def test_every_call_gives_the_official_result(tmp_path: Path) -> None:
    python = require_official_sdk_python()
    result = run_official(python, str(SCRIPT), stdin=json.dumps(CALLS))
    assert result.returncode == 0, result.stderr[-4000:]
    official = json.loads(result.stdout)
    ours = json.loads(json.dumps([call(name, copy.deepcopy(args), tmp_path) for name, args in CALLS]))
    mismatches = []
    for (name, args), theirs, mine in zip(CALLS, official, ours, strict=True):
        if (name, args) in BEYOND_OFFICIAL:
            if theirs.get("error") != "ValueError" or "result" not in mine:
                mismatches.append(
                    f"{name}{tuple(args)} is no longer beyond the official: {theirs}, ours {mine}"
                )
            continue
        if "result" in theirs:
            if mine != theirs:
                mismatches.append(f"{name}{tuple(args)}: official {theirs}, ours {mine}")
            continue
        same_kind = mine.get("error") in (
            theirs["error"],
            "SchemaError" if theirs["error"] == "ValueError" else "",
        )
        phrase = theirs["message"].split(":")[0].split(". ")[0]
        worded = mine.get("message", "").startswith(phrase) or (
            bool(args) and args[1:2] and args[1] in WORDED_DIFFERENTLY
        )
        if not (same_kind and worded):
            mismatches.append(f"{name}{tuple(args)}: official {theirs}, ours {mine}")
    assert not mismatches, "\n".join(mismatches)


def test_splitting_keeps_the_text_as_written() -> None:
    assert tool.parse_array_type("array<string>") == "string"
    assert tool.parse_array_type("ARRAY<STRUCT<a:INT>>") == "STRUCT<a:INT>"
    assert tool.parse_array_type("ARRAY<INT>, ARRAY<INT>") is None
    assert tool.parse_map_type("MAP<STRING, ARRAY<INT>>") == ("STRING", "ARRAY<INT>")
    assert tool.parse_map_type("MAP<STRING>") is None
    assert tool.parse_struct_type("STRUCT<name: STRING, age: INT NOT NULL>") == [
        ("name", "STRING"),
        ("age", "INT NOT NULL"),
    ]
    assert tool.parse_struct_type("STRING") is None and tool.parse_struct_type("STRUCT<>") is None


def test_what_ours_takes_beyond_the_official_helpers() -> None:
    # Commas inside DECIMAL(p, s), back-quoted names, Spark's `name TYPE` members.
    assert tool.parse_map_type("MAP<DECIMAL(10,2), INT>") == ("DECIMAL(10,2)", "INT")
    assert tool.parse_struct_type("STRUCT<`a,b`: INT, c DECIMAL(5, 1)>") == [
        ("a,b", "INT"),
        ("c", "DECIMAL(5, 1)"),
    ]
    assert tool.get_proto_field_info("price", "DECIMAL(10,2)", False, {"count": 0}) == (
        "required",
        "string",
        None,
    )
    assert tool.get_proto_field_info("ids", "ARRAY<INTEGER>", True, {"count": 0}) == (
        "repeated",
        "int32",
        None,
    )


def test_field_info_lays_out_structs_and_counts_them() -> None:
    counter = {"count": 2}
    modifier, proto_type, nested = tool.get_proto_field_info(
        "_", "STRUCT<a:INT, inner_part:STRUCT<b:STRING>>", True, counter, 1
    )
    assert (modifier, proto_type, counter) == ("optional", "Struct3", {"count": 4})
    assert nested == (
        "\tmessage Struct3 {\n\t\toptional int32 a = 1;\n\t\tmessage InnerPart {\n"
        "\t\t\toptional string b = 1;\n\t\t}\n\n\t\toptional InnerPart inner_part = 2;\n\t}"
    )
    assert tool.get_proto_field_info("m", "MAP<STRING,INT>", False, {"count": 0}) == (
        "",
        "map<string, int32>",
        None,
    )


@pytest.mark.parametrize(
    ("column_type", "message"),
    [
        ("ARRAY<ARRAY<INT>>", "Nested arrays are not supported"),
        ("ARRAY<MAP<STRING,INT>>", "Arrays of maps are not supported"),
        ("MAP<MAP<STRING,INT>,STRING>", "Maps with map keys are not supported"),
        ("MAP<ARRAY<INT>,STRING>", "Maps with array keys are not supported"),
        ("MAP<STRING,MAP<INT,STRING>>", "Maps with map values are not supported"),
        ("MAP<STRING,ARRAY<INT>>", "Maps with array values are not supported"),
        ("MAP<DOUBLE,STRING>", "Unsupported map key type for Protobuf: DOUBLE"),
        ("STRUCT<x:ARRAY<ARRAY<INT>>>", "Nested arrays are not supported"),
        ("STRUCT<1a:INT>", "Cannot start with a digit"),
        ("INTERVAL", "Unknown column type: INTERVAL"),
        ("STRUCT<>", "Unknown column type: STRUCT<>"),
    ],
)
def test_refusals_keep_the_official_wording(column_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tool.get_proto_field_info("f", column_type, True, {"count": 0})


def test_names_and_columns() -> None:
    assert tool.to_pascal_case("hello__world") == "HelloWorld"
    assert tool.validate_field_name("field_1") == "field_1"
    for bad, reason in [("message", "reserved keyword"), ("1x", "Cannot start"), ("a b", "non-alphanumeric")]:
        with pytest.raises(ValueError, match=reason):
            tool.validate_field_name(bad)
    with pytest.raises(KeyError, match="nullable"):
        tool.extract_columns({"columns": [{"name": "id", "type_text": "INT"}]})
    with pytest.raises(ValueError, match="Nesting level exceeds maximum depth of 100"):
        tool.get_proto_field_info("f", "INT", True, {"count": 0}, 101)


def test_generate_proto_file_writes_what_our_codegen_writes(tmp_path: Path) -> None:
    ddl = "id INT NOT NULL, tags ARRAY<STRING>, address STRUCT<city: STRING, zip: INT>, m MAP<STRING, BIGINT>"
    schema = schema_from_ddl(ddl, "main.default.people")
    columns: list[dict[str, Any]] = [
        {"name": c.name, "type_text": c.type.type_text, "nullable": c.nullable} for c in schema.columns
    ]
    output = tmp_path / "people.proto"
    tool.generate_proto_file("Person", columns, str(output))
    assert output.read_text() == proto_text(schema, "Person")
    assert "required int32 id = 1;" in output.read_text()


def test_parse_args_reads_the_official_flags() -> None:
    args = tool.parse_args(
        [
            "--uc-endpoint",
            "https://ws",
            "--client-id",
            "i",
            "--client-secret",
            "s",
            "--table",
            "a.b.c",
            "--output",
            "o.proto",
        ]
    )
    assert (args.uc_endpoint, args.table, args.output, args.proto_msg) == (
        "https://ws",
        "a.b.c",
        "o.proto",
        None,
    )


def test_unity_catalog_helpers_against_the_local_server(zerobus_server: Any, zerobus_table: Any) -> None:
    table = zerobus_table("id BIGINT NOT NULL, tags ARRAY<STRING>, at STRUCT<day: DATE>")
    workspace = zerobus_server.workspace_url
    token = tool.get_oauth_token(workspace, zerobus_server.client_id, zerobus_server.client_secret)
    columns = tool.extract_columns(tool.fetch_table_info(workspace, token, table))
    assert [(c["name"], c["nullable"]) for c in columns] == [("id", False), ("tags", True), ("at", True)]
    assert columns[1]["type_text"].lower() == "array<string>"


def test_unity_catalog_failures_are_request_exceptions(zerobus_server: Any) -> None:
    workspace = zerobus_server.workspace_url
    with pytest.raises(requests.exceptions.RequestException, match="OAuth"):
        tool.get_oauth_token(workspace, zerobus_server.client_id, "not-the-secret")
    token = tool.get_oauth_token(workspace, zerobus_server.client_id, zerobus_server.client_secret)
    with pytest.raises(requests.exceptions.RequestException, match=r"main\.tests\.no_such_table"):
        tool.fetch_table_info(workspace, token, "main.tests.no_such_table")
    with pytest.raises(requests.exceptions.RequestException, match="not-a-table-name"):
        tool.fetch_table_info(workspace, token, "not-a-table-name")
