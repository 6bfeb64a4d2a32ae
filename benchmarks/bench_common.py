"""Shared helpers of the SDK benchmarks: the emulator in its own process, CPU accounting, records.

The local server runs as a separate process (`zerobus-emulator start`), so the client under test
never shares an interpreter (or its GIL) with the server, and the server's CPU share can be
read from /proc for exactly the measured window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EMULATOR = Path(sys.executable).with_name("zerobus-emulator")

# The benchmark table: a typical small event (5 columns, ~40 bytes as protobuf).
COLUMNS = "id BIGINT NOT NULL, device STRING, value DOUBLE, ts TIMESTAMP, ok BOOLEAN"
BASE_TS_MICROS = 1_700_000_000_000_000
DEVICES = [f"device-{i:03d}" for i in range(100)]
UTC = dt.timezone.utc


def record_dict(i: int) -> dict[str, Any]:
    """Record `i` as a dict of wire values (TIMESTAMP as microseconds)."""
    return {"id": i, "device": DEVICES[i % 100], "value": i * 0.5, "ts": BASE_TS_MICROS + i, "ok": i % 2 == 0}


def record_datetime(i: int) -> dt.datetime:
    return dt.datetime(2023, 11, 14, tzinfo=UTC) + dt.timedelta(microseconds=i)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Emulator:
    """A running `zerobus-emulator` process and its endpoints."""

    process: subprocess.Popen[bytes]
    grpc_endpoint: str
    workspace_url: str
    client_id: str
    client_secret: str

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.process.pid)


@contextmanager
def emulator(
    tables: list[str], materialize_delay_s: float = 2.0, extra_args: tuple[str, ...] = ()
) -> Iterator[Emulator]:
    """Start the emulator with `tables` (each gets `COLUMNS`), in memory; stop it afterwards.

    `extra_args` go to ``zerobus-emulator start`` as they are (``--stream-rate-limit 15000``).
    """
    with tempfile.TemporaryDirectory() as scratch:
        ready = Path(scratch) / "ready.json"
        command = [
            str(EMULATOR),
            "start",
            "--in-memory",
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--ready-file",
            str(ready),
            "--materialize-delay",
            str(materialize_delay_s),
        ]
        for table in tables:
            command += ["--table", f"{table}: {COLUMNS}"]
        command += list(extra_args)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists() or not ready.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)
            info = json.loads(ready.read_text())
            yield Emulator(
                process,
                info["grpc_endpoint"],
                info["workspace_url"],
                info["client_id"],
                info["client_secret"],
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def ack_sink(beside: Emulator, script: str = "ack_sink.py") -> Iterator[Emulator]:
    """`beside` with its gRPC endpoint replaced by an acknowledge-only peer (benchmarks/ack_sink.py,
    or benchmarks/flight_ack_sink.py for Arrow Flight streams).

    Tokens and Unity Catalog still come from `beside`; `cpu_seconds()` reads the peer's process.
    """
    command = [sys.executable, str(Path(__file__).with_name(script))]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        endpoint = json.loads(process.stdout.readline())["grpc_endpoint"]
        yield Emulator(process, endpoint, beside.workspace_url, beside.client_id, beside.client_secret)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Measurement:
    records: int
    seconds: float
    server_cpu_s: float
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def server_share(self) -> float:
        return self.server_cpu_s / self.seconds

    @property
    def client_share(self) -> float:
        return self.client_cpu_s / self.seconds
