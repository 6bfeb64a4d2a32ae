"""The README's shell blocks for the local server, run as written with bash: `zerobus-emulator
start` with the quickstart table, the block that checks and watches it (env, doctor, stats, rows),
and the `zerobus-ingest` command on a CSV, a JSON lines and a Parquet file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from zerobus.quickstart import TABLE

README = Path(__file__).resolve().parents[2] / "README.md"
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
READY_TIMEOUT_S = 60.0


def _block(starting: str) -> str:
    (block,) = [b.strip() for b in BASH_BLOCKS if b.startswith(starting)]
    return block


def _environment() -> dict[str, str]:
    """PATH with this venv's commands first, and none of the four variables: the blocks set them."""
    variables = (
        "ZEROBUS_SERVER_ENDPOINT",
        "DATABRICKS_HOST",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
    )
    env = {name: value for name, value in os.environ.items() if name not in variables}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The README's `zerobus-emulator start` block, on free ports, in a fresh directory."""
    work = tmp_path_factory.mktemp("readme-shell")
    command = (
        _block("zerobus-emulator start --data-dir ./zerobus-data")
        + " --grpc-port 0 --http-port 0 --ready-file ready.json"
    )
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=work,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not (work / "ready.json").exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the ready file the server writes once it listens
    try:
        assert (work / "ready.json").exists(), (
            server.communicate(timeout=30) if server.poll() is not None else ""
        )
        yield work
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=60)
        assert server.returncode == 0, errors
        assert "Traceback" not in errors, errors


def test_the_start_block_serves_the_quickstart_table(started: Path) -> None:
    ready = json.loads((started / "ready.json").read_text())
    assert Path(started / "zerobus-data" / "emulator.json").exists()
    assert ready["grpc_endpoint"].startswith("http://127.0.0.1:")
    assert ready["data_dir"] == str(started.resolve() / "zerobus-data")  # absolute: read from anywhere


def test_the_check_and_watch_block_runs(started: Path) -> None:
    block = _block('eval "$(zerobus-emulator env)"')
    result = _bash(block, started)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout
    assert f"OK   table exists: {TABLE}" in result.stdout
    assert "streams" in result.stdout and TABLE in result.stdout


def test_the_ingest_block_lands_three_formats_and_dead_letters_the_refused_row(started: Path) -> None:
    (started / "readings.csv").write_text(
        "device_name,temp,measured_at\n"
        "csv-1,21,2026-01-02T03:04:05Z\n"
        "csv-2,too warm,2026-01-02T03:04:06Z\n"
        "csv-3,19,2026-01-02T03:04:07Z\n"
    )
    (started / "events.jsonl").write_text(
        '{"device_name": "jsonl-1", "measured_at": "2026-01-02T03:04:05Z", "pm25": 1.5}\n'
        '{"device_name": "jsonl-2", "measured_at": "2026-01-02T03:04:06Z", "tags": {"a": "b"}}\n'
    )
    pq.write_table(
        pa.table(
            {
                "device_name": ["parquet-1", "parquet-2"],
                "measured_at": pa.array([1767323045000000, 1767323046000000], pa.timestamp("us", tz="UTC")),
            }
        ),
        started / "export.parquet",
    )
    ingest = _block("zerobus-ingest")
    result = _bash(f'eval "$(zerobus-emulator env)"\n{ingest}', started)
    assert result.returncode == 3, result.stdout + result.stderr  # some rows went to the dead-letter file
    (refused,) = [json.loads(line) for line in (started / "refused.jsonl").read_text().splitlines()]
    assert (refused["file"], refused["line"], refused["field"]) == ("readings.csv", 3, "temp")
    rows = _bash(f'eval "$(zerobus-emulator env)"\nzerobus-emulator rows {TABLE} --wait 6', started)
    assert rows.returncode == 0, rows.stderr
    names = {json.loads(line)["device_name"] for line in rows.stdout.splitlines()}
    assert {"csv-1", "csv-3", "jsonl-1", "jsonl-2", "parquet-1", "parquet-2"} <= names
