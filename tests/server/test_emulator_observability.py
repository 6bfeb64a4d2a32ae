"""Watching the emulator: request log, /health, stats, waiting for rows in Delta, strict JSON rows."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner, Result
from deltalake import DeltaTable

from zerobus.sdk.sync import TableProperties, ZerobusSdk
from zerobus.server import LocalZerobusServer
from zerobus.server.cli import main
from zerobus.server.cli_support import ExitStatus

TABLE = "main.default.watched"
RECORDS = 300


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalZerobusServer]:
    """A server that never materialises on its own: only a wait or a read makes rows reach Delta."""
    data_dir = tmp_path_factory.mktemp("observed")
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={TABLE: "id BIGINT NOT NULL, value DOUBLE"}
    ) as server:
        yield server


def _ingest(server: LocalZerobusServer, table: str, records: list[dict[str, object]]) -> None:
    with (
        ZerobusSdk(server.grpc_endpoint, server.workspace_url) as sdk,
        sdk.create_stream(server.client_id, server.client_secret, TableProperties(table)) as stream,
    ):
        stream.ingest_records_offset(records)


def _delta_rows(server: LocalZerobusServer, table: str) -> int:
    return int(DeltaTable(str(server.table_path(table))).to_pyarrow_table().num_rows)


def _cli(server: LocalZerobusServer, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"DATABRICKS_HOST": server.workspace_url})


def test_wait_for_rows_makes_acknowledged_rows_visible_to_a_delta_reader(
    slow_server: LocalZerobusServer,
) -> None:
    before = _delta_rows(slow_server, TABLE)
    _ingest(slow_server, TABLE, [{"id": i, "value": i / 2} for i in range(RECORDS)])
    assert _delta_rows(slow_server, TABLE) == before, "acknowledged is not yet materialised"
    lagging = requests.get(slow_server.workspace_url + "/api/2.0/zerobus-emulator/stats", timeout=30).json()
    assert lagging["tables"][TABLE]["materialization_lag_frames"] > 0
    assert slow_server.wait_for_rows(TABLE, before + RECORDS) == before + RECORDS
    assert _delta_rows(slow_server, TABLE) == before + RECORDS
    assert slow_server.wait_for_rows(TABLE) == before + RECORDS  # None: whatever is acknowledged
    with pytest.raises(TimeoutError, match=rf"{TABLE} holds {before + RECORDS} rows after 0.3s"):
        slow_server.wait_for_rows(TABLE, before + RECORDS + 1, timeout_s=0.3)
    caught = requests.get(slow_server.workspace_url + "/api/2.0/zerobus-emulator/stats", timeout=30).json()
    assert caught["tables"][TABLE]["materialization_lag_frames"] == 0


def test_rows_wait_in_the_cli(slow_server: LocalZerobusServer) -> None:
    table = "main.default.cli_wait"
    slow_server.create_table(table, "id BIGINT")
    _ingest(slow_server, table, [{"id": i} for i in range(5)])
    result = _cli(slow_server, "rows", table, "--wait", "5")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.output.splitlines()] == list(range(5))
    late = _cli(slow_server, "rows", table, "--wait", "6", "--timeout", "0.3")
    assert late.exit_code == ExitStatus.TIMED_OUT, late.output
    assert "holds 5 rows" in late.output and "Traceback" not in late.output


def test_rows_prints_strict_json_for_nan_and_infinities(slow_server: LocalZerobusServer) -> None:
    table = "main.default.odd_floats"
    slow_server.create_table(
        table,
        "id BIGINT, value DOUBLE, f FLOAT, xs ARRAY<DOUBLE>, m MAP<STRING, DOUBLE>, s STRUCT<x: DOUBLE>",
    )
    values = [math.nan, math.inf, -math.inf, 1.5]
    _ingest(
        slow_server,
        table,
        [
            {"id": i, "value": v, "f": v, "xs": [v], "m": {"k": v}, "s": {"x": v}}
            for i, v in enumerate(values)
        ],
    )
    result = _cli(slow_server, "rows", table)
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"bare {constant} is not JSON")

    rows = [json.loads(line, parse_constant=refuse) for line in result.output.splitlines()]
    expected = ["NaN", "Infinity", "-Infinity", 1.5]
    assert [row["value"] for row in rows] == expected and [row["f"] for row in rows] == expected
    assert [row["xs"] for row in rows] == [[v] for v in expected]
    assert [row["m"] for row in rows] == [{"k": v} for v in expected]
    assert [row["s"] for row in rows] == [{"x": v} for v in expected]


def test_rows_progress_goes_to_stderr_only_when_asked(slow_server: LocalZerobusServer) -> None:
    runner = (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )
    env = {"DATABRICKS_HOST": slow_server.workspace_url}
    shown = runner.invoke(main, ["rows", TABLE, "--limit", "3", "--progress"], env=env)
    assert shown.exit_code == 0 and "3/3 rows" in shown.stderr
    assert len(shown.stdout.splitlines()) == 3 and "rows" not in shown.stdout
    hidden = runner.invoke(main, ["rows", TABLE, "--limit", "3"], env=env)  # stderr is no terminal here
    assert hidden.exit_code == 0 and "rows" not in hidden.stderr


def test_health_and_stats(slow_server: LocalZerobusServer) -> None:
    health = requests.get(slow_server.workspace_url + "/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    document = requests.get(slow_server.workspace_url + "/api/2.0/zerobus-emulator/stats", timeout=30).json()
    assert document["streams"]["created"] >= 1 and document["streams"]["open"] == 0
    assert document["records"]["stored"] >= RECORDS and document["bytes_received"] > 0
    assert document["acks"]["sent"] >= 1 and TABLE in document["tables"]
    as_json = _cli(slow_server, "stats", "--json")
    assert as_json.exit_code == 0 and TABLE in json.loads(as_json.output)["tables"]
    human = _cli(slow_server, "stats")
    assert human.exit_code == 0, human.output
    assert "streams" in human.output and any(line.startswith(TABLE) for line in human.output.splitlines())


def test_the_request_log_has_one_line_per_call_and_request(
    slow_server: LocalZerobusServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="zerobus.server.frontends.observability")
    _ingest(slow_server, TABLE, [{"id": -1}])
    requests.get(slow_server.workspace_url + "/health", timeout=30)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "zerobus.server.frontends.observability"]

    deadline = time.monotonic() + 30
    while not any("EphemeralStream" in line for line in lines()) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server logs the call when its handler returns, just after the client's close
    grpc_lines = [line for line in lines() if line.startswith("grpc ") and "EphemeralStream" in line]
    # A client closes its stream by cancelling the call: the server sees CANCELLED, not an error.
    assert (
        grpc_lines and f"table={TABLE} status=CANCELLED" in grpc_lines[-1] and grpc_lines[-1].endswith("ms")
    )
    assert any(line.startswith("http POST /oidc/v1/token status=200 ") for line in lines())
    assert any(line.startswith("http GET /health status=200 ") for line in lines())


def test_the_start_help_states_the_materialisation_delay_truthfully(tmp_path: Path) -> None:
    text = CliRunner().invoke(main, ["start", "--help"]).output
    assert "within which" not in text and "rows --wait" in text
