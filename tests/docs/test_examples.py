"""Every example runs unchanged against the local server the environment names, and lands rows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from zerobus.quickstart import TABLE
from zerobus.server import LocalZerobusServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# example -> (rows it adds to the table, a line its output must contain)
EXPECTED = {
    "sync_example.py": (20_000, "rejected before sending, stream still healthy"),
    "async_example.py": (20_000, "records from 100 tasks durable"),
    "pydantic_example.py": (100, "caught by the model"),
    "dict_example.py": (1, "rejected: field 'calibration'"),
    "json_example.py": (49, "49 JSON records durable"),
    "pb2_example.py": (1_000, "1000 compiled messages durable"),
    "codegen_walkthrough.py": (0, "drift after writing: []"),
    "avro_example.py": (20, "20 Avro records durable"),
}


def test_every_example_is_covered() -> None:
    names = {path.name for path in EXAMPLES.glob("*.py")} - {"example_settings.py"}
    assert names == set(EXPECTED)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalZerobusServer]:
    with LocalZerobusServer(data_dir=tmp_path / "server", materialize_delay_s=0.2) as running:
        yield running


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_runs_against_the_local_server(
    example: str, server: LocalZerobusServer, tmp_path: Path
) -> None:
    env = dict(os.environ) | {
        "ZEROBUS_SERVER_ENDPOINT": server.grpc_endpoint,
        "DATABRICKS_HOST": server.workspace_url,
        "DATABRICKS_CLIENT_ID": server.client_id,
        "DATABRICKS_CLIENT_SECRET": server.client_secret,
    }
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows_added, marker = EXPECTED[example]
    assert marker in result.stdout
    assert len(server.rows(TABLE)) == rows_added
    assert not (tmp_path / "zerobus-data" / "tables").exists(), "the example used the server it was given"
