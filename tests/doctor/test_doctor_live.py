"""`zerobus doctor` against the real local server: one line per check, the first failure's status."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zerobus.cli import main
from zerobus.codegen import generate, load_schema, write_files
from zerobus.server import LocalZerobusServer
from zerobus.server.identity.auth import Grant

COLUMNS = "id BIGINT NOT NULL, name STRING"
CHECKS = [
    "endpoint reachable",
    "TLS as configured",
    "workspace URL answers",
    "token can be minted",
    "grants on the table",
    "table exists",
    "generated files match the table",
]


def doctor(server: LocalZerobusServer, table: str, *extra: str, env: dict[str, str] | None = None) -> Result:
    arguments = [
        "doctor",
        "--table",
        table,
        "--endpoint",
        server.grpc_endpoint,
        "--workspace-url",
        server.workspace_url,
        "--client-id",
        server.client_id,
        "--client-secret",
        server.client_secret,
        *extra,
    ]
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def outcomes(result: Result) -> dict[str, str]:
    """Check name -> OK / FAIL / SKIP, from the command's one line per check."""
    found: dict[str, str] = {}
    for line in result.output.splitlines():
        outcome, _, rest = line.partition(" ")
        if outcome in ("OK", "FAIL", "SKIP"):
            found[rest.strip().split(":", 1)[0]] = outcome
    assert list(found) == CHECKS, result.output
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_good_setup_passes_every_check(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    schema = load_schema(
        table,
        host=zerobus_server.workspace_url,
        client_id=zerobus_server.client_id,
        client_secret=zerobus_server.client_secret,
    )
    write_files(generate(schema, tmp_path))
    result = doctor(zerobus_server, table, "--generated", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert set(outcomes(result).values()) == {"OK"}
    assert result.output.endswith("all checks passed\n")


def test_the_environment_variables_of_the_sdk_are_read(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    env = {
        "ZEROBUS_SERVER_ENDPOINT": zerobus_server.grpc_endpoint,
        "DATABRICKS_HOST": zerobus_server.workspace_url,
        "DATABRICKS_CLIENT_ID": zerobus_server.client_id,
        "DATABRICKS_CLIENT_SECRET": zerobus_server.client_secret,
    }
    result = CliRunner().invoke(main, ["doctor", "--table", table], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert outcomes(result)["generated files match the table"] == "SKIP"


def test_nothing_listening_fails_the_endpoint_and_skips_tls(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--endpoint", f"http://127.0.0.1:{free_port()}")
    assert result.exit_code == 3, result.output
    found = outcomes(result)
    assert found["endpoint reachable"] == "FAIL"
    assert found["TLS as configured"] == "SKIP"
    assert "fix: start the server" in result.output


def test_the_workspace_url_given_as_the_endpoint_fails_the_endpoint_check(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--endpoint", zerobus_server.workspace_url)
    assert result.exit_code == 3, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert line.startswith("FAIL endpoint reachable:")
    assert f"127.0.0.1:{zerobus_server.http_port} answers HTTP/1.1, not gRPC" in line
    assert "fix: set --endpoint / ZEROBUS_SERVER_ENDPOINT to the Zerobus gRPC endpoint" in line


def test_the_endpoint_given_as_the_workspace_url_fails_the_workspace_check_readably(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--workspace-url", zerobus_server.grpc_endpoint)
    assert result.exit_code == 5, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert line.startswith("FAIL workspace URL answers:")
    assert f"127.0.0.1:{zerobus_server.grpc_port} speaks HTTP/2 (gRPC), not the REST API" in line
    assert "fix: set --workspace-url / DATABRICKS_HOST to the workspace URL" in line
    assert "\\x00" not in line and "BadStatusLine('" not in line  # no bytes of the gRPC preface


def test_tls_configured_against_a_plaintext_server(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--tls")
    assert result.exit_code == 4, result.output
    assert outcomes(result)["TLS as configured"] == "FAIL"
    assert "speaks plaintext" in result.output


def test_plaintext_configured_against_a_tls_server(
    zerobus_tls_server: LocalZerobusServer, tmp_path: Path
) -> None:
    table = "main.doctor.tls_events"
    zerobus_tls_server.create_table(table, COLUMNS)
    try:
        ca = str(zerobus_tls_server.ca_file)
        plaintext = doctor(zerobus_tls_server, table, "--plaintext", "--root-certificates", ca)
        assert plaintext.exit_code == 4, plaintext.output
        assert "configured for plaintext but" in plaintext.output
        untrusted = doctor(zerobus_tls_server, table, env={"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": ""})
        assert untrusted.exit_code == 4, untrusted.output
        assert "certificate is not trusted" in untrusted.output
        trusted = doctor(zerobus_tls_server, table, "--root-certificates", ca)
        assert trusted.exit_code == 0, trusted.output
        from_environment = {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": ca, "REQUESTS_CA_BUNDLE": ca}
        trusted_by_environment = doctor(zerobus_tls_server, table, env=from_environment)
        assert trusted_by_environment.exit_code == 0, trusted_by_environment.output
    finally:
        zerobus_tls_server.drop_table(table)


def test_a_bad_secret_fails_the_token_and_skips_what_needs_one(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--client-secret", "not-the-secret")
    assert result.exit_code == 6, result.output
    found = outcomes(result)
    assert found["token can be minted"] == "FAIL"
    assert [found[name] for name in CHECKS[4:]] == ["SKIP", "SKIP", "SKIP"]
    assert "not-the-secret" not in result.output


def test_a_token_for_another_table_fails_the_grant_check(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    other = zerobus_table(COLUMNS)
    catalog, schema, _ = table.split(".")
    zerobus_server.add_principal(
        "doctor-other",
        "doctor-secret",
        [
            Grant(catalog, ["USE CATALOG"]),
            Grant(f"{catalog}.{schema}", ["USE SCHEMA"]),
            Grant(other, ["SELECT", "MODIFY"]),
        ],
    )
    try:
        arguments = ["--client-id", "doctor-other", "--client-secret", "doctor-secret"]
        refused = doctor(zerobus_server, table, *arguments)
        assert refused.exit_code == 7, refused.output
        assert outcomes(refused)["grants on the table"] == "FAIL"
        assert f"SELECT, MODIFY on {table}" in refused.output
        allowed = doctor(zerobus_server, other, *arguments)
        assert outcomes(allowed)["grants on the table"] == "OK", allowed.output
    finally:
        zerobus_server.remove_principal("doctor-other")


def test_a_missing_table_fails_the_table_check(zerobus_server: LocalZerobusServer) -> None:
    result = doctor(zerobus_server, "main.default.doctor_no_such_table")
    assert result.exit_code == 8, result.output
    assert outcomes(result)["table exists"] == "FAIL"
    assert "fix: create main.default.doctor_no_such_table" in result.output


@pytest.mark.parametrize("target", ["directory", "file"])
def test_a_drifted_generated_file_fails_the_drift_check(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path, target: str
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    files = generate(
        load_schema(
            table,
            host=zerobus_server.workspace_url,
            client_id=zerobus_server.client_id,
            client_secret=zerobus_server.client_secret,
        ),
        tmp_path,
    )
    write_files(files)
    model = next(item.path for item in files if item.kind == "models")
    model.write_text(model.read_text() + "\n# edited by hand\n")
    generated = tmp_path if target == "directory" else model
    result = doctor(zerobus_server, table, "--generated", str(generated))
    assert result.exit_code == 9, result.output
    assert outcomes(result)["generated files match the table"] == "FAIL"
    assert f"{model.name} (differs)" in result.output


def test_no_generated_file_at_the_path_fails_the_drift_check(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    result = doctor(zerobus_server, table, "--generated", str(tmp_path))
    assert result.exit_code == 9, result.output
    assert "no generated file of" in result.output


def test_a_malformed_option_is_a_usage_error_naming_it(zerobus_server: LocalZerobusServer) -> None:
    result = doctor(zerobus_server, "not-a-table-name")
    assert result.exit_code == 2
    assert "not-a-table-name" in result.output


def test_the_installed_command_runs_in_its_own_process(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    command = Path(sys.executable).parent / "zerobus"
    env = {
        **os.environ,
        "ZEROBUS_SERVER_ENDPOINT": zerobus_server.grpc_endpoint,
        "DATABRICKS_HOST": zerobus_server.workspace_url,
        "DATABRICKS_CLIENT_ID": zerobus_server.client_id,
        "DATABRICKS_CLIENT_SECRET": "wrong",
    }
    done = subprocess.run(
        [str(command), "doctor", "--table", table],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 6, done.stdout + done.stderr
    assert "FAIL token can be minted" in done.stdout
