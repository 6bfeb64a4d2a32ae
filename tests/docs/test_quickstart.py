"""The README's first command: `zerobus-quickstart` runs the main job end to end, and re-runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from zerobus.server import LocalZerobusServer
from zerobus.server.storage.delta_read import open_dataset

QUICKSTART = [sys.executable, "-c", "from zerobus.quickstart import main; main()"]


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        [*QUICKSTART, *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "ZEROBUS_SERVER_ENDPOINT",
        "DATABRICKS_HOST",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
    ):
        env.pop(name, None)
    return env


def _row_count(output: str) -> int:
    match = re.search(r"holds ([\d,]+) rows", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


def _location(output: str) -> str:
    match = re.search(r"location: (\S+)", output)
    assert match, output
    return match.group(1)


def test_quickstart_starts_a_local_server_and_reruns(tmp_path: Path) -> None:
    env = _clean_env()
    first = _run(["--records", "3000", "--no-progress", "--data-dir", "data"], tmp_path, env)
    assert "Created table main.default.air_quality" in first
    assert (tmp_path / "data" / "generated" / "air_quality_model.py").is_file()
    assert (tmp_path / "data" / "generated" / "air_quality.proto").is_file()
    assert _row_count(first) == 3000

    second = _run(["--records", "2000", "--no-progress", "--data-dir", "data"], tmp_path, env)
    assert "Created table" not in second
    assert _row_count(second) == 5000
    table = open_dataset(_location(second)).to_table()
    assert table.num_rows == 5000
    assert set(table.column("device_name").to_pylist()) == {f"sensor-{i:02d}" for i in range(20)}


def test_quickstart_uses_the_server_the_environment_names(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path / "server", materialize_delay_s=0.2) as server:
        env = _clean_env() | {
            "ZEROBUS_SERVER_ENDPOINT": server.grpc_endpoint,
            "DATABRICKS_HOST": server.workspace_url,
            "DATABRICKS_CLIENT_ID": server.client_id,
            "DATABRICKS_CLIENT_SECRET": server.client_secret,
        }
        output = _run(["--records", "1500", "--no-progress", "--data-dir", "local"], tmp_path, env)
        assert f"Using the Zerobus endpoint {server.grpc_endpoint}" in output
        assert _row_count(output) == 1500
        assert len(server.rows("main.default.air_quality")) == 1500
    assert not (tmp_path / "local" / "tables").exists(), "no second server was started"


@pytest.mark.parametrize("missing", ["DATABRICKS_CLIENT_ID"])
def test_quickstart_explains_missing_credentials(tmp_path: Path, missing: str) -> None:
    env = _clean_env() | {
        "ZEROBUS_SERVER_ENDPOINT": "http://127.0.0.1:9",
        "DATABRICKS_HOST": "http://127.0.0.1:9",
        "DATABRICKS_CLIENT_SECRET": "x",
    }
    result = subprocess.run(
        [*QUICKSTART, "--no-progress"], check=False, cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert missing in result.stderr


def test_the_local_server_runs_in_a_process_of_its_own(tmp_path: Path) -> None:
    output = _run(["--records", "2500", "--no-progress", "--data-dir", "data"], tmp_path, _clean_env())
    assert "Started a local Zerobus emulator in its own process" in output
    assert "Prepared 2,500 readings as validated AirQuality models" in output
    assert re.search(r"All 2,500 records acknowledged in [\d.]+ s \([\d,]+ records/s\)", output), output
