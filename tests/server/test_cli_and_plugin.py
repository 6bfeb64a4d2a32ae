"""The table commands of `zerobus-emulator` against a running server, and the pytest plugin."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from tests.server.wire_client import open_stream
from zerobus.server import LocalZerobusServer
from zerobus.server.cli import banner, main
from zerobus.server.cli_support import ExitStatus


def _run(server: LocalZerobusServer, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"DATABRICKS_HOST": server.workspace_url})
    assert result.exit_code == 0, result.output
    return result.output


def test_table_commands_over_rest(zerobus_server: LocalZerobusServer) -> None:
    name = "cli.demo.readings"
    out = _run(zerobus_server, "create-table", name, "id BIGINT NOT NULL, temp DOUBLE COMMENT 'C', day DATE")
    assert f"created {name}" in out
    try:
        assert name in _run(zerobus_server, "tables").splitlines()
        described = _run(zerobus_server, "describe", name)
        assert "id bigint NOT NULL" in described and "temp double  -- C" in described
        assert json.loads(_run(zerobus_server, "describe", name, "--json"))["full_name"] == name
        with open_stream(zerobus_server, name, json=True) as stream:
            stream.wait_created()
            stream.batch(0, [json.dumps({"id": i, "day": 1}) for i in range(3)])
            assert stream.wait_acked(0)
        lines = _run(zerobus_server, "rows", name, "--limit", "2").splitlines()
        assert [json.loads(line) for line in lines] == [
            {"id": 0, "temp": None, "day": "1970-01-02"},
            {"id": 1, "temp": None, "day": "1970-01-02"},
        ]
    finally:
        zerobus_server.drop_table(name)


def test_table_command_errors_are_clear(zerobus_server: LocalZerobusServer) -> None:
    runner = CliRunner()
    env = {"DATABRICKS_HOST": zerobus_server.workspace_url}
    missing = runner.invoke(main, ["describe", "no.such.table"], env=env)
    assert missing.exit_code != 0 and "TABLE_DOES_NOT_EXIST" in missing.output
    bad_type = runner.invoke(main, ["create-table", "a.b.c", "x INTERVAL"], env=env)
    assert bad_type.exit_code != 0 and "x" in bad_type.output
    wrong_secret = runner.invoke(main, ["tables", "--client-secret", "nope"], env=env)
    assert wrong_secret.exit_code != 0 and "401" in wrong_secret.output


def test_banner_names_endpoints_and_exports() -> None:
    text = banner("http://127.0.0.1:1", "http://127.0.0.1:2", "/data")
    assert "emulator" in text.lower()
    assert "export ZEROBUS_SERVER_ENDPOINT=http://127.0.0.1:1" in text
    assert "export DATABRICKS_HOST=http://127.0.0.1:2" in text


def test_plugin_fixtures(zerobus_server: LocalZerobusServer, zerobus_table, zerobus_credentials) -> None:
    first, second = zerobus_table("id BIGINT"), zerobus_table("id BIGINT", name="main.tests.named_by_test")
    assert first != second and second == "main.tests.named_by_test"
    assert zerobus_server.table_schema(first).columns[0].name == "id"
    assert zerobus_credentials == (zerobus_server.client_id, zerobus_server.client_secret)
    assert zerobus_server.grpc_endpoint.startswith("http://127.0.0.1:")
    assert zerobus_server.rows(first) == []


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, zerobus.pytest_plugin, zerobus.server; "
        "heavy = [m for m in ('deltalake', 'pyarrow', 'grpclib') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_client_closing_its_stream_is_not_logged_as_news(
    zerobus_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Clients close streams by cancelling the call; grpclib's INFO line for that is dropped."""
    from zerobus.sdk.sync import TableProperties, ZerobusSdk

    caplog.set_level(logging.INFO)
    table = "main.tests.quiet_close"
    zerobus_server.create_table(table, "id BIGINT")
    try:
        sdk = ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
        with sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table)
        ) as s:
            s.ingest_record_offset({"id": 1})
        sdk.close()
        assert zerobus_server.rows(table) == [{"id": 1}]
    finally:
        zerobus_server.drop_table(table)
    assert not [r for r in caplog.records if r.name == "grpclib.server" and r.levelno <= logging.INFO]


NAME, DEFINITION = ExitStatus.BAD_NAME, ExitStatus.BAD_TABLE_DEFINITION


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["describe", "main.default.t\n"], NAME),
        (["describe", "main.default.caf\u00e9"], NAME),
        (["rows", "main..t"], NAME),
        (["rows", "a.b.c.d"], NAME),
        (["create-table", "main.default.t ", "id BIGINT"], NAME),
        (["create-table", "main.default." + "t" * 256, "id BIGINT"], NAME),
        (["create-table", "main.default.t", "id BIGINT, ID STRING"], DEFINITION),
        (["start", "--in-memory", "--table", "main.default.t\n: id BIGINT"], NAME),
        (["start", "--in-memory", "--table", "main.default.t\uff11: id BIGINT"], NAME),
        (["start", "--in-memory", "--table", "main.default.t: id BIGINT, Id STRING"], DEFINITION),
        (
            ["start", "--in-memory", "--table", "main.default.t: s " + "STRUCT<x:" * 70 + "INT" + ">" * 70],
            DEFINITION,
        ),
    ],
)
def test_bad_names_and_table_specs_fail_on_one_line_before_any_network_call(
    args: list[str], status: ExitStatus
) -> None:
    # Port 9 (discard) on loopback: nothing answers there, so reaching the network would fail differently.
    result = CliRunner().invoke(main, args, env={"DATABRICKS_HOST": "http://127.0.0.1:9"})
    assert result.exit_code == status, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "invalid" in lines[0] or "case-insensitive" in lines[0] or "levels deep" in lines[0]


def test_negative_row_limits_are_usage_errors() -> None:
    result = CliRunner().invoke(
        main, ["rows", "a.b.c", "--limit", "-1"], env={"DATABRICKS_HOST": "http://127.0.0.1:9"}
    )
    assert result.exit_code == 2 and "-1" in result.output
