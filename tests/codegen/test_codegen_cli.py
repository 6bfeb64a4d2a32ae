"""`zerobus-codegen` and `python -m zerobus.tools.generate_proto`: outputs, --check, exit codes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner, Result

from tests.codegen.codegen_support import CORPUS, GOLDEN, ScriptedCatalog
from zerobus.codegen import proto_text, schema_from_ddl
from zerobus.codegen.cli import ExitCode, main
from zerobus.tools import generate_proto

if TYPE_CHECKING:
    from zerobus.server import LocalZerobusServer

COLUMNS = "id BIGINT NOT NULL, name STRING, price DECIMAL(10,2), at TIMESTAMP"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_ddl_writes_proto_models_and_descriptor_set(tmp_path: Path) -> None:
    result = run(
        "ddl", COLUMNS, "--name", "main.default.trades", "--out-dir", str(tmp_path), "--descriptor-set"
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["trades.desc", "trades.proto", "trades_model.py"]
    assert (tmp_path / "trades.proto").read_text() == proto_text(
        schema_from_ddl(COLUMNS, "main.default.trades")
    )
    assert f"wrote {tmp_path / 'trades_model.py'}" in result.output
    assert oct((tmp_path / "trades.proto").stat().st_mode & 0o777) == "0o644"


def test_check_reports_up_to_date_missing_and_changed_files(tmp_path: Path) -> None:
    args = ["ddl", COLUMNS, "--name", "main.default.trades", "--out-dir", str(tmp_path)]
    missing = run(*args, "--check")
    assert missing.exit_code == ExitCode.DRIFT
    assert "trades.proto (missing)" in missing.output
    assert not list(tmp_path.iterdir()), "--check must write nothing"
    assert run(*args).exit_code == 0
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    current = run(*args, "--check")
    assert current.exit_code == 0, current.output
    assert "up to date" in current.output
    # The table changed: DECIMAL(10,2) -> (10,3) leaves the .proto alone but not the models.
    changed = run(
        "ddl",
        COLUMNS.replace("(10,2)", "(10,3)"),
        "--name",
        "main.default.trades",
        "--out-dir",
        str(tmp_path),
        "--check",
    )
    assert changed.exit_code == ExitCode.DRIFT
    assert "trades_model.py (differs)" in changed.output
    assert "trades.proto" not in changed.output
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_output_selection_and_names(tmp_path: Path) -> None:
    result = run(
        "ddl", "a INT", "--name", "main.default.t", "--out-dir", str(tmp_path),
        "--no-proto", "--message-name", "Reading", "--class-name", "ReadingRow",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["reading_model.py"]
    source = (tmp_path / "reading_model.py").read_text()
    assert "class ReadingRow(ZerobusModel):" in source
    assert '__zerobus_message_name__ = "Reading"' in source
    nothing = run("ddl", "a INT", "--name", "t", "--no-proto", "--no-models")
    assert nothing.exit_code == ExitCode.USAGE
    assert "nothing to generate" in nothing.output


def test_file_command_matches_the_golden_files(tmp_path: Path) -> None:
    result = run("file", str(CORPUS / "uc_clicks.json"), "--out-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "clicks.proto").read_bytes() == (GOLDEN / "uc_clicks.proto").read_bytes()
    assert (tmp_path / "clicks_model.py").read_bytes() == (GOLDEN / "uc_clicks_model.py.golden").read_bytes()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ddl", "a INTERVAL DAY", "--name", "t"], ExitCode.SCHEMA, "INTERVAL has no Zerobus representation"),
        (["ddl", "a ARRAY<ARRAY<INT>>", "--name", "t"], ExitCode.SCHEMA, "column 'a': ARRAY<ARRAY<...>>"),
        (["ddl", "a INT", "--name", "t", "--message-name", "bad-name"], ExitCode.SCHEMA, "bad-name"),
        (["file", "/nonexistent/t.json"], ExitCode.USAGE, "cannot read table JSON"),
        (["table", "main.t", "--host", "http://127.0.0.1:9"], ExitCode.USAGE, "invalid table name"),
        (["table", "main.default.t"], ExitCode.USAGE, "no workspace URL"),
        (["ddl", "a INT"], ExitCode.USAGE, "Missing option '--name'"),
    ],
)
def test_errors_have_distinct_exit_codes(args: list[str], code: int, message: str) -> None:
    result = run(*args, env={"DATABRICKS_HOST": ""})
    assert result.exit_code == code, result.output
    assert message in result.output


def test_write_errors_exit_6(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    result = run("ddl", "a INT", "--name", "t", "--out-dir", str(blocker / "sub"))
    assert result.exit_code == ExitCode.WRITE
    assert "cannot write" in result.output


def test_table_command_against_the_local_server(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    name = zerobus_table(COLUMNS)
    env = {
        "DATABRICKS_HOST": zerobus_server.workspace_url,
        "DATABRICKS_CLIENT_ID": zerobus_server.client_id,
        "DATABRICKS_CLIENT_SECRET": zerobus_server.client_secret,
    }
    short = name.rsplit(".", 1)[1]
    result = run("table", name, "--out-dir", str(tmp_path), env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{short}.proto").read_text() == proto_text(schema_from_ddl(COLUMNS, name))
    assert run("table", name, "--out-dir", str(tmp_path), "--check", env=env).exit_code == 0
    missing = run("table", "main.tests.no_such_table", "--out-dir", str(tmp_path), env=env)
    assert missing.exit_code == ExitCode.NOT_FOUND, missing.output
    denied = run("table", name, "--client-secret", "wrong", env=env)
    assert denied.exit_code == ExitCode.AUTH, denied.output
    assert "HTTP 401" in denied.output
    down = run("table", name, "--host", "http://127.0.0.1:9", env=env)
    assert down.exit_code == ExitCode.UNAVAILABLE, down.output


def test_catalog_failures_map_to_their_exit_codes(scripted_catalog: ScriptedCatalog) -> None:
    args = [
        "table",
        "main.default.t",
        "--host",
        scripted_catalog.url,
        "--client-id",
        "i",
        "--client-secret",
        "s",
    ]
    scripted_catalog.table_answers = [(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "later"})]
    assert run(*args).exit_code == ExitCode.UNAVAILABLE
    scripted_catalog.table_answers = [(403, {"error_code": "PERMISSION_DENIED", "message": "no"})]
    assert run(*args).exit_code == ExitCode.AUTH
    scripted_catalog.table_answers = [(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "x"})]
    assert run(*args).exit_code == ExitCode.CATALOG


def test_help_documents_every_exit_code() -> None:
    for args in ([], ["table"], ["ddl"], ["file"]):
        text = run(*args, "--help").output
        for code in ExitCode:
            assert f"  {code.value}  " in text


def test_console_script_runs_in_a_real_process(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("zerobus-codegen")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "zerobus.codegen.cli"]
    result = subprocess.run(
        [*command, "ddl", "v VARIANT, d DATE", "--name", "main.default.docs", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "docs.proto").exists()
    failed = subprocess.run(
        [*command, "ddl", "v GEOGRAPHY", "--name", "t", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert failed.returncode == ExitCode.SCHEMA
    assert failed.stderr.startswith("error: column 'v': type GEOGRAPHY has no Zerobus representation")


# --- the official tool's command line ---------------------------------------------------------


def test_generate_proto_command_line_against_the_local_server(
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = zerobus_table(COLUMNS)
    output = tmp_path / "out.proto"
    base = ["--uc-endpoint", zerobus_server.workspace_url, "--client-id", zerobus_server.client_id]
    code = generate_proto.main(
        [
            *base,
            "--client-secret",
            zerobus_server.client_secret,
            "--table",
            name,
            "--output",
            str(output),
            "--proto-msg",
            "Trade",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out == f"Successfully generated proto file at: {output}\n"
    assert output.read_text() == proto_text(schema_from_ddl(COLUMNS, name), "Trade")
    assert (
        generate_proto.main([*base, "--client-secret", "wrong", "--table", name, "--output", str(output)])
        == 1
    )
    assert "Error making request to Unity Catalog" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        generate_proto.main(["--table", name])
    assert usage.value.code == 2


def test_generate_proto_module_runs_as_a_script(scripted_catalog: ScriptedCatalog, tmp_path: Path) -> None:
    table = {
        "full_name": "main.default.events",
        "columns": [{"name": "a", "type_text": "map<string,array<int>>"}],
    }
    scripted_catalog.table_answers = [(200, table)]
    args = ["--uc-endpoint", scripted_catalog.url, "--client-id", "i", "--client-secret", "s"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zerobus.tools.generate_proto",
            *args,
            "--table",
            "main.default.events",
            "--output",
            str(tmp_path / "e.proto"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error mapping column type: column 'a': maps whose values are ARRAY")
    assert not (tmp_path / "e.proto").exists()
