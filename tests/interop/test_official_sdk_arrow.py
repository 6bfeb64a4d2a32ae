"""The official SDK's Arrow Flight client (`create_arrow_stream`, 1.10 with the arrow extra) against our server.

It runs in its own venv, through subprocess (see `tests/support/official_sdk.py`); the tests are
skipped, saying why, only where that package cannot be installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.support.official_sdk import require_official_sdk_python, run_official
from zerobus.server import LocalZerobusServer

pytestmark = pytest.mark.official_sdk

SCRIPT = Path(__file__).with_name("official_arrow_script.py")
COLUMNS = "id BIGINT NOT NULL, name STRING"


def _run(server: LocalZerobusServer, table: str, **args: Any) -> dict[str, Any]:
    python = require_official_sdk_python()
    payload = {
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": table,
    } | args
    result = run_official(python, str(SCRIPT), stdin=json.dumps(payload))
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("compression", ["NONE", "LZ4_FRAME", "ZSTD"])
def test_official_arrow_stream_ingests_into_delta(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
    compression: str,
) -> None:
    table = zerobus_table(COLUMNS)
    result = _run(zerobus_server, table, batches=[3, 1000, 2], compression=compression)
    assert result == {"offsets": [0, 1, 2]}
    rows = zerobus_server.rows(table)
    assert rows == [{"id": i, "name": f"n{i}"} for i in range(1005)]


def test_official_arrow_stream_recovers_from_a_dropped_call(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table(COLUMNS)
    zerobus_server.faults.end_call_after(25, grpc.StatusCode.UNAVAILABLE, "injected drop")
    result = _run(zerobus_server, table, batches=[10] * 6)
    assert result == {"offsets": list(range(6))}
    assert zerobus_server.faults.calls_ended >= 1
    ids = [row["id"] for row in zerobus_server.rows(table)]
    assert set(ids) == set(range(60))  # nothing lost; resent batches may land twice (at-least-once)


def test_official_arrow_stream_reports_a_wrong_schema_at_creation(
    zerobus_server: LocalZerobusServer,
    zerobus_table,  # type: ignore[no-untyped-def]
) -> None:
    table = zerobus_table(COLUMNS)
    result = _run(zerobus_server, table, schema="wrong", batches=[1])
    error = result["create_error"]
    assert "column 'id'" in error and "expected Arrow int64" in error and "got int32" in error
    assert zerobus_server.rows(table) == []


def test_official_arrow_stream_reports_an_unknown_table(zerobus_server: LocalZerobusServer) -> None:
    result = _run(zerobus_server, "main.tests.no_such_arrow_table", batches=[1], recovery_retries=0)
    assert "create_error" in result
