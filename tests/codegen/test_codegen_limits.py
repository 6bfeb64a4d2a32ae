"""Deep nesting and loosely typed JSON in schemas give SchemaErrors (and exit 5), never crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.codegen.codegen_support import ScriptedCatalog
from zerobus.codegen.cli import ExitCode, main
from zerobus.errors import SchemaError, ZerobusException
from zerobus.oauth import fetch_metadata_token
from zerobus.schema.parse import parse_type
from zerobus.schema.type_rules import MAX_TYPE_DEPTH
from zerobus.schema.uc import fetch_table_json
from zerobus.schema.uc_json import parse_type_json, schema_from_uc_json


def _arrays(levels: int) -> str:
    return "array<" * (levels - 1) + "int" + ">" * (levels - 1)


def _structs(levels: int) -> str:
    return "struct<a:" * (levels - 1) + "int" + ">" * (levels - 1)


def _json_arrays(levels: int) -> object:
    value: object = "integer"
    for _ in range(levels - 1):
        value = {"type": "array", "elementType": value, "containsNull": True}
    return value


@pytest.mark.parametrize("make", [_arrays, _structs])
def test_types_up_to_the_limit_parse(make) -> None:  # type: ignore[no-untyped-def]
    assert parse_type(make(MAX_TYPE_DEPTH), "c").type_text == make(MAX_TYPE_DEPTH).replace("a:", "a:")


@pytest.mark.parametrize("make", [_arrays, _structs])
@pytest.mark.parametrize("levels", [MAX_TYPE_DEPTH + 1, 5_000, 100_000])
def test_deeper_type_text_is_a_schema_error_naming_the_depth(make, levels: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SchemaError, match=f"more than {MAX_TYPE_DEPTH} levels deep") as refused:
        parse_type(make(levels), "c")
    assert refused.value.args[0].startswith("column 'c")


@pytest.mark.parametrize("levels", [MAX_TYPE_DEPTH + 1, 5_000])
def test_deeper_type_json_is_a_schema_error(levels: int) -> None:
    assert parse_type_json(_json_arrays(MAX_TYPE_DEPTH), "c").type_text == _arrays(MAX_TYPE_DEPTH)
    with pytest.raises(SchemaError, match="levels deep"):
        parse_type_json(_json_arrays(levels), "c")


def test_type_json_text_nested_past_the_json_parser_is_a_schema_error() -> None:
    deep = '{"type":"array","elementType":' * 200_000 + '"integer"' + "}" * 200_000
    table = {"full_name": "a.b.c", "columns": [{"name": "c", "type_json": deep}]}
    with pytest.raises(SchemaError, match="levels deep") as refused:
        schema_from_uc_json(table)
    assert "'c'" in str(refused.value)


@pytest.mark.parametrize(
    ("column", "key"),
    [
        ({"name": "c", "type_text": "int", "nullable": "false"}, "nullable"),
        ({"name": "c", "type_text": "int", "nullable": 0}, "nullable"),
        ({"name": "c", "type_text": "int", "nullable": "true"}, "nullable"),
        (
            {"name": "c", "type_json": {"name": "c", "type": "integer", "nullable": "false"}},
            "nullable",
        ),
        (
            {
                "name": "c",
                "type_json": {
                    "name": "c",
                    "type": {"type": "array", "elementType": "integer", "containsNull": "false"},
                },
            },
            "containsNull",
        ),
        (
            {
                "name": "c",
                "type_json": {
                    "name": "c",
                    "type": {"type": "struct", "fields": [{"name": "x", "type": "long", "nullable": "no"}]},
                },
            },
            "nullable",
        ),
    ],
)
def test_booleans_given_as_strings_or_numbers_are_refused(column: dict, key: str) -> None:
    with pytest.raises(SchemaError, match=f"'{key}' must be a JSON boolean") as refused:
        schema_from_uc_json({"full_name": "a.b.c", "columns": [column]})
    assert "'c" in str(refused.value)


@pytest.mark.parametrize(
    "column",
    [{"name": 5, "type_text": "int"}, {"name": "c", "type_text": "int", "comment": 5}],
)
def test_names_and_comments_must_be_strings(column: dict) -> None:
    with pytest.raises(SchemaError):
        schema_from_uc_json({"full_name": "a.b.c", "columns": [column]})


def test_json_booleans_and_null_keep_working() -> None:
    schema = schema_from_uc_json(
        {
            "full_name": "a.b.c",
            "columns": [
                {"name": "x", "type_text": "int", "nullable": False},
                {"name": "y", "type_text": "int", "nullable": None},
                {"name": "z", "type_text": "int"},
            ],
        }
    )
    assert [c.nullable for c in schema.columns] == [False, True, True]


# --- the codegen CLI ----------------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"DATABRICKS_HOST": ""}, catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_deep_type_text_exits_with_the_schema_code(tmp_path: Path) -> None:
    code, output = _run("ddl", f"c {_structs(10_000)}", "--name", "t", "--out-dir", str(tmp_path))
    assert code == ExitCode.SCHEMA, output
    assert "levels deep" in output and len(output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_deep_type_json_file_exits_with_the_schema_code(tmp_path: Path) -> None:
    deep = '{"type":"array","elementType":' * 100_000 + '"integer"' + "}" * 100_000
    table = tmp_path / "t.json"
    table.write_text(json.dumps({"full_name": "a.b.c", "columns": [{"name": "c", "type_json": deep}]}))
    code, output = _run("file", str(table), "--out-dir", str(tmp_path / "out"))
    assert code == ExitCode.SCHEMA, output


def test_cli_deep_table_json_document_exits_with_the_schema_code(tmp_path: Path) -> None:
    table = tmp_path / "t.json"
    table.write_text("[" * 100_000 + "]" * 100_000)
    code, output = _run("file", str(table), "--out-dir", str(tmp_path / "out"))
    assert code == ExitCode.SCHEMA, output
    assert "levels deep" in output


@pytest.mark.parametrize(
    "args",
    [
        ["ddl", "a INT", "--name", "t\n"],
        ["ddl", "a INT", "--name", "main.default.t\n"],
        ["ddl", "a INT", "--name", "caf\u00e9"],
        ["ddl", "a INT", "--name", "a..b"],
        ["table", "main.default.t\n", "--host", "http://127.0.0.1:9"],
        ["table", "main.default.t\uff11", "--host", "http://127.0.0.1:9"],
    ],
)
def test_cli_bad_names_are_usage_errors_on_one_line(args: list[str], tmp_path: Path) -> None:
    code, output = _run(*args, "--out-dir", str(tmp_path))
    assert code == ExitCode.USAGE, output
    assert len(output.strip().splitlines()) == 1 and "invalid" in output


def test_cli_table_json_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    table = tmp_path / "t.json"
    table.write_bytes(b'{"full_name": "a.b.c", "columns": [{"name": "\xff", "type_text": "int"}]}')
    code, output = _run("file", str(table), "--out-dir", str(tmp_path / "out"))
    assert code == ExitCode.USAGE, output
    assert "not UTF-8" in output and len(output.strip().splitlines()) == 1


def test_a_catalog_answer_nested_past_the_json_parser_is_a_schema_error(
    scripted_catalog: ScriptedCatalog, tmp_path: Path
) -> None:
    scripted_catalog.table_answers = [(200, b'{"columns": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")]
    with pytest.raises(SchemaError, match="levels deep"):
        fetch_table_json("main.default.t", scripted_catalog.url, "id", "secret")
    env = {
        "DATABRICKS_HOST": scripted_catalog.url,
        "DATABRICKS_CLIENT_ID": "id",
        "DATABRICKS_CLIENT_SECRET": "s",
    }
    result = CliRunner().invoke(
        main, ["table", "main.default.t", "--out-dir", str(tmp_path)], env=env, catch_exceptions=False
    )
    assert result.exit_code == ExitCode.SCHEMA, result.output


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [(b"[" * 100_000 + b"]" * 100_000, "levels deep"), (b"[]", "no access_token"), (b"7", "no access_token")],
)
def test_token_answers_that_are_not_a_token_object_are_clear_errors(
    scripted_catalog: ScriptedCatalog, answer: bytes, fragment: str
) -> None:
    scripted_catalog.token_answer = (200, answer)
    with pytest.raises(ZerobusException, match=fragment):
        fetch_metadata_token(scripted_catalog.url, "id", "secret")
