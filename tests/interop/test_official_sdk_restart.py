"""The official SDK keeps ingesting through a `kill -9` and restart of the emulator.

The official client caches its OAuth token for the token's lifetime and reuses it when it
recovers, so this passes only if a restarted server still honours the tokens it issued; and
only if every record it acknowledged before the crash was durable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.official_sdk import (
    OFFICIAL_CWD,
    official_command,
    official_env,
    require_official_sdk_python,
)
from zerobus.oauth import fetch_metadata_token

pytestmark = pytest.mark.official_sdk

SCRIPT = Path(__file__).with_name("official_restart_script.py")
TABLE = "crash.restart.events"
_START_TIMEOUT_S = 60.0


def _wait_for_file(path: Path, process: subprocess.Popen[bytes], deadline_s: float) -> dict[str, Any]:
    """The emulator's ready file once written (a deadline-bounded poll: it is another process)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if path.exists():
            return dict(json.loads(path.read_text()))
        if process.poll() is not None:
            raise AssertionError(f"the emulator exited with {process.returncode} before it was ready")
        time.sleep(0.05)
    raise AssertionError(f"the emulator was not ready within {deadline_s} s")


@contextmanager
def _emulator(
    tmp_path: Path, grpc_port: int, http_port: int, run: int
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, Any]]]:
    ready_file = tmp_path / f"ready-{run}.json"
    command = [
        sys.executable,
        "-m",
        "zerobus.server.cli",
        "start",
        "--data-dir",
        str(tmp_path / "data"),
        "--grpc-port",
        str(grpc_port),
        "--http-port",
        str(http_port),
        "--materialize-delay",
        "0.2",
        "--table",
        f"{TABLE}: id BIGINT NOT NULL",
        "--ready-file",
        str(ready_file),
    ]
    with open(tmp_path / f"emulator-{run}.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        yield process, _wait_for_file(ready_file, process, _START_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def _read_line(process: subprocess.Popen[str], lines: list[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise AssertionError(f"the official client ended early: {process.wait(timeout=60)}\n{lines[-20:]}")
    lines.append(line.rstrip("\n"))
    return lines[-1]


def _is_ack_past(line: str, offset: int) -> bool:
    return line.startswith("ack ") and int(line.split()[1]) >= offset


def test_official_sdk_ingests_through_kill_9_and_restart(tmp_path: Path) -> None:
    python = require_official_sdk_python()
    with _emulator(tmp_path, 0, 0, run=1) as (first, ready):
        grpc_port = int(ready["grpc_endpoint"].rsplit(":", 1)[1])
        http_port = int(ready["workspace_url"].rsplit(":", 1)[1])
        args = {
            "endpoint": ready["grpc_endpoint"],
            "workspace_url": ready["workspace_url"],
            "client_id": ready["client_id"],
            "client_secret": ready["client_secret"],
            "table": TABLE,
            "before": 50,
            "after": 150,
            "pace_s": 0.01,
            "recovery_retries": 60,
            "recovery_backoff_ms": 1000,
        }
        client = subprocess.Popen(
            official_command(python, str(SCRIPT)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=OFFICIAL_CWD,
            env=official_env(),
        )
        assert client.stdin is not None
        client.stdin.write(json.dumps(args) + "\n")
        client.stdin.flush()
        lines: list[str] = []
        try:
            while _read_line(client, lines) != "ready":
                pass
            # Kill while the second phase streams: some of it acknowledged, the rest in flight.
            while not _is_ack_past(_read_line(client, lines), args["before"] + 20):
                pass
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=60)
        except BaseException:
            client.kill()
            raise
    with _emulator(tmp_path, grpc_port, http_port, run=2) as (_, again):
        assert again["grpc_endpoint"] == ready["grpc_endpoint"]
        while not _read_line(client, lines).startswith("{"):
            pass
        stderr = client.communicate(timeout=120)[1]
        result = json.loads(lines[-1])
        acked_offsets = {int(line.split()[1]) for line in lines if line.startswith("ack ")}
        offsets = {int(record): offset for record, offset in result["offsets"].items()}
        acked_ids = {record for record, offset in offsets.items() if offset in acked_offsets}

        token = fetch_metadata_token(again["workspace_url"], again["client_id"], again["client_secret"])
        response = requests.get(
            f"{again['workspace_url']}/api/2.0/zerobus-emulator/tables/{TABLE}/rows",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        stored = {row["id"] for row in response.json()["rows"]}

    assert acked_ids <= stored, f"acknowledged but lost: {sorted(acked_ids - stored)[:20]}"
    assert result["error"] is None, f"{result['error']}\n{stderr[-3000:]}"
    assert stored == set(range(200))  # the SDK recovered with its cached token and delivered everything
