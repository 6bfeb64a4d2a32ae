"""Command-line conventions: --version, -h naming the environment, one actionable line per mistake."""

from __future__ import annotations

import socket
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.ingest.conftest import Ingest, server_env
from zerobus.ingest import ExitCode


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    source = tmp_path / "rows.csv"
    source.write_text("id,name\n1,a\n")
    return source


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def assert_one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for word in words:
        assert word in lines[0], (word, stderr)


def test_version_and_help(ingest: Ingest) -> None:
    version = ingest("--version")
    assert version.returncode == 0 and "zerobus-ingest, version" in version.stdout
    for flag in ("-h", "--help"):
        text = ingest(flag).stdout
        for variable in (
            "ZEROBUS_SERVER_ENDPOINT",
            "DATABRICKS_HOST",
            "DATABRICKS_CLIENT_ID",
            "DATABRICKS_CLIENT_SECRET",
        ):
            assert variable in text
        for code in ExitCode:
            assert f"  {code.value} " in text, code


def test_a_bad_table_name_is_one_line_and_a_usage_status(ingest: Ingest, csv_file: Path) -> None:
    for name in ("main.default", "main.default.bad-name", "a.b.c.d"):
        result = ingest(str(csv_file), "--table", name)
        assert result.returncode == ExitCode.USAGE, (name, result.stderr)
        assert_one_line_error(result.stderr, "invalid table name", repr(name))


def test_a_missing_table_says_so(ingest: Ingest, csv_file: Path) -> None:
    result = ingest(str(csv_file), "--table", "main.default.no_such_table")
    assert result.returncode == ExitCode.NOT_FOUND
    assert_one_line_error(result.stderr, "main.default.no_such_table")


def test_bad_credentials_name_the_variables(ingest: Ingest, zerobus_table, csv_file: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    env = server_env(ingest.server) | {"DATABRICKS_CLIENT_SECRET": "wrong"}
    result = ingest(str(csv_file), "--table", table, env=env)
    assert result.returncode == ExitCode.AUTH
    assert_one_line_error(result.stderr, "401", "DATABRICKS_CLIENT_SECRET")


def test_an_unreachable_workspace_names_its_variable(ingest: Ingest, zerobus_table, csv_file: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    env = server_env(ingest.server) | {"DATABRICKS_HOST": f"http://127.0.0.1:{free_port()}"}
    result = ingest(str(csv_file), "--table", table, env=env)
    assert result.returncode == ExitCode.UNREACHABLE
    assert_one_line_error(result.stderr, "Connection refused", "DATABRICKS_HOST")


def test_an_unreachable_endpoint_names_its_variable(ingest: Ingest, zerobus_table, csv_file: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = ingest(str(csv_file), "--table", table, "--endpoint", endpoint)
    assert result.returncode == ExitCode.UNREACHABLE
    assert_one_line_error(result.stderr, endpoint, "ZEROBUS_SERVER_ENDPOINT")
    assert ingest.server.rows(table) == []


def test_missing_settings_name_flag_and_variable(ingest: Ingest, csv_file: Path) -> None:
    env = server_env(ingest.server)
    del env["ZEROBUS_SERVER_ENDPOINT"]
    result = ingest(str(csv_file), "--table", "main.default.t", env=env)
    assert result.returncode == ExitCode.USAGE
    assert "--endpoint" in result.stderr and "ZEROBUS_SERVER_ENDPOINT" in result.stderr


def test_files_that_do_not_fit_the_table_fail_before_sending(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING, at TIMESTAMP")
    extra = tmp_path / "extra.csv"
    extra.write_text("id,name,colour\n1,a,red\n")
    missing = tmp_path / "missing.csv"
    missing.write_text("name\na\n")
    naive = tmp_path / "naive.parquet"
    pq.write_table(
        pa.table({"id": pa.array([1], pa.int64()), "at": pa.array([0], pa.timestamp("us"))}), naive
    )
    not_parquet = tmp_path / "broken.parquet"
    not_parquet.write_text("id,name\n1,a\n")
    array = tmp_path / "array.json"
    array.write_text('[\n  {"id": 1, "name": "a"}\n]\n')
    one_line_array = tmp_path / "one_line.json"
    one_line_array.write_text('[{"id": 1, "name": "a"}]\n')
    expectations = {
        extra: "colour",
        missing: "NOT NULL",
        naive: "time zone",
        not_parquet: "Parquet",
        array: "JSON array",
        one_line_array: "JSON array",
    }
    for source, words in expectations.items():
        result = ingest(str(source), "--table", table)
        assert result.returncode == ExitCode.BAD_FILE, (source, result.stderr)
        assert str(source) in result.stderr and words in result.stderr
        assert "Traceback" not in result.stderr
    assert ingest.server.rows(table) == []


def test_a_dead_letter_path_that_cannot_be_written_is_a_usage_error(
    ingest: Ingest, zerobus_table, csv_file: Path, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    result = ingest(str(csv_file), "--table", table, "--dead-letter", str(tmp_path / "no" / "dir.jsonl"))
    assert result.returncode == ExitCode.USAGE
    assert_one_line_error(result.stderr, "dead-letter")
    assert ingest.server.rows(table) == []


def test_column_names_match_regardless_of_case(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    source = tmp_path / "rows.csv"
    source.write_text("ID,Name\n7,seven\n")
    assert ingest(str(source), "--table", table).returncode == 0
    assert ingest.server.rows(table) == [{"id": 7, "name": "seven"}]


def test_a_principal_without_modify_is_told_about_grants(
    ingest: Ingest, zerobus_table, csv_file: Path
) -> None:
    from zerobus.server import Grant

    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    catalog, schema, _ = table.split(".")
    ingest.server.add_principal(
        "reader",
        "reader-secret",
        [
            Grant(catalog, ["USE CATALOG"]),
            Grant(f"{catalog}.{schema}", ["USE SCHEMA"]),
            Grant(table, ["SELECT"]),
        ],
    )
    env = server_env(ingest.server) | {
        "DATABRICKS_CLIENT_ID": "reader",
        "DATABRICKS_CLIENT_SECRET": "reader-secret",
    }
    result = ingest(str(csv_file), "--table", table, env=env)
    assert result.returncode == ExitCode.AUTH, result.stderr
    assert_one_line_error(result.stderr, "grants")
    assert ingest.server.rows(table) == []


def test_header_names_may_have_spaces_around_them(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    source = tmp_path / "rows.csv"
    source.write_text("id , name\r\n8,eight\r\n")
    assert ingest(str(source), "--table", table).returncode == 0
    assert ingest.server.rows(table) == [{"id": 8, "name": "eight"}]
