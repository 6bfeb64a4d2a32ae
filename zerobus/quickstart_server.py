"""Internal: The quickstart's local server, run as `zerobus-emulator start` in a process of its own.

In-process, the server's gRPC handling, log writes and Delta commits share the interpreter lock
with the client that builds, encodes and sends records, so the figure the quickstart prints
would be the two halves added up on one core. In its own process the server gets the other
core, as a real deployment would give it a machine of its own.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from zerobus.errors import ZerobusException

__all__ = ["EmulatorEndpoints", "emulator_process"]

_START_TIMEOUT_S = 120.0
_STOP_TIMEOUT_S = 30.0
_POLL_S = 0.05


@dataclass(frozen=True)
class EmulatorEndpoints:
    """What the emulator's ready file says once it listens."""

    grpc_endpoint: str
    workspace_url: str
    client_id: str
    client_secret: str


@contextlib.contextmanager
def emulator_process(data_dir: Path, materialize_delay_s: float) -> Iterator[EmulatorEndpoints]:
    """Start an emulator on free loopback ports over `data_dir`; stop it (Ctrl-C) on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zerobus-quickstart-") as scratch:
        ready_file = Path(scratch) / "ready.json"
        log_path = Path(scratch) / "emulator.log"
        command = [
            sys.executable,
            "-c",
            "from zerobus.server.cli import main; main()",
            "start",
            "--data-dir",
            str(data_dir),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--materialize-delay",
            str(materialize_delay_s),
            "--ready-file",
            str(ready_file),
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            yield _wait_until_ready(process, ready_file, log_path)
        finally:
            _stop(process)


def _wait_until_ready(
    process: subprocess.Popen[bytes], ready_file: Path, log_path: Path
) -> EmulatorEndpoints:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _has_content(ready_file):
        if process.poll() is not None:
            output = log_path.read_text(errors="replace").strip()
            raise ZerobusException(f"the local emulator exited with status {process.returncode}: {output}")
        if time.monotonic() > deadline:
            raise ZerobusException(f"the local emulator did not start within {_START_TIMEOUT_S:.0f} s")
        time.sleep(_POLL_S)  # another process: nothing to wait on but its ready file
    ready = json.loads(ready_file.read_text())
    return EmulatorEndpoints(
        grpc_endpoint=str(ready["grpc_endpoint"]),
        workspace_url=str(ready["workspace_url"]),
        client_id=str(ready["client_id"]),
        client_secret=str(ready["client_secret"]),
    )


def _has_content(path: Path) -> bool:
    try:
        return bool(path.read_text().strip())
    except FileNotFoundError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C, as a user stops it (the emulator closes its log and Delta writer cleanly)."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
