"""The quickstart's own figure: records/s of `zerobus-quickstart`, progress bar on.

Runs the command as a user does and reads the ``records/s`` it prints: with the local server it
starts in its own process (the default), and against emulators started beforehand in another
process (the ``ZEROBUS_SERVER_ENDPOINT`` route) with the quickstart's materialisation delay,
once with timed passes yielding to ingestion (the default) and once with passes on the timer
whatever arrives (``--materialize-max-lag 0``: the baseline). The setups run interleaved,
`--repeat` rounds (3); medians, each run, the ratio to the baseline, the server's CPU per 1,000
rows (the whole run: ingestion and materialisation) and `uptime` are printed.

    .venv/bin/python benchmarks/quickstart_throughput.py [--records N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zerobus.quickstart import AIR_QUALITY_DDL, TABLE

BIN = Path(sys.executable).parent
RATE = re.compile(r"\(([\d,]+) records/s\)")


def run_quickstart(records: int, env: dict[str, str]) -> float:
    """One run of the command in a fresh data directory; the records/s it reports."""
    with tempfile.TemporaryDirectory() as data_dir:
        command = [str(BIN / "zerobus-quickstart"), "--records", str(records), "--data-dir", data_dir]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    found = RATE.search(done.stdout)
    if found is None:
        raise SystemExit(f"no records/s in the quickstart's output:\n{done.stdout}\n{done.stderr}")
    return float(found.group(1).replace(",", ""))


@dataclass
class Setup:
    """One way to run the quickstart; its runs' records/s and the server CPU they cost."""

    label: str
    env: dict[str, str]
    server_pid: int | None = None  # None: the quickstart starts its own server
    rates: list[float] = field(default_factory=list)
    server_cpu_s: list[float] = field(default_factory=list)

    def run(self, records: int) -> None:
        before = _cpu_seconds(self.server_pid)
        self.rates.append(run_quickstart(records, self.env))
        self.server_cpu_s.append(_cpu_seconds(self.server_pid) - before)


def _cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return math.nan
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def separate_emulator(extra_args: tuple[str, ...]) -> Iterator[tuple[dict[str, str], int]]:
    """An emulator holding the quickstart's table, in its own process; the environment naming it
    and its process id."""
    with tempfile.TemporaryDirectory() as scratch:
        ready = Path(scratch) / "ready.json"
        command = [
            str(BIN / "zerobus-emulator"),
            "start",
            "--data-dir",
            str(Path(scratch) / "data"),
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            "--ready-file",
            str(ready),
            "--table",
            f"{TABLE}: {AIR_QUALITY_DDL}",
            *extra_args,
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists() or not ready.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)
            info = json.loads(ready.read_text())
            named = {
                "ZEROBUS_SERVER_ENDPOINT": info["grpc_endpoint"],
                "DATABRICKS_HOST": info["workspace_url"],
                "DATABRICKS_CLIENT_ID": info["client_id"],
                "DATABRICKS_CLIENT_SECRET": info["client_secret"],
            }
            yield named, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _uptime() -> str:
    return subprocess.run(["uptime"], check=True, capture_output=True, text=True).stdout.strip()


# The quickstart's own emulator materialises every second (zerobus/quickstart.py).
_QUICKSTART_DELAY = ("--materialize-delay", "1.0")
_SEPARATE = {
    "-> emulator, passes yield to ingestion (default)": _QUICKSTART_DELAY,
    "-> emulator, passes on the timer (max lag 0)": (*_QUICKSTART_DELAY, "--materialize-max-lag", "0"),
}
_BASELINE = "-> emulator, passes on the timer (max lag 0)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records per run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of all setups; medians are printed")
    options = parser.parse_args()
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBUS_", "DATABRICKS_"))}
    print("uptime:", _uptime())
    with ExitStack() as emulators:
        setups = [Setup("zerobus-quickstart (its own local server)", plain)]
        for label, extra_args in _SEPARATE.items():
            named, pid = emulators.enter_context(separate_emulator(extra_args))
            setups.append(Setup(label, {**plain, **named}, pid))
        for _ in range(max(1, options.repeat)):
            for setup in setups:  # interleaved: a load change hits every setup alike
                setup.run(options.records)
    baseline = statistics.median(next(s for s in setups if s.label == _BASELINE).rates)
    print("uptime:", _uptime())
    print(f"{'quickstart setup':<52} {'records/s':>10} {'vs base':>8} {'server CPU s/1k rows':>21}")
    for setup in setups:
        rate = statistics.median(setup.rates)
        cpu = statistics.median(setup.server_cpu_s) / options.records * 1000
        runs = ", ".join(f"{r:,.0f}" for r in setup.rates)
        print(f"{setup.label:<52} {rate:>10,.0f} {rate / baseline:>7.2f}x {cpu:>21.4f}   runs: {runs}")


if __name__ == "__main__":
    main()
