"""The quickstart's own figure: records/s of `zerobus-quickstart`, progress bar on.

Runs the command as a user does and reads the ``records/s`` it prints, twice: with the local
server it starts in its own process (the default), and against an emulator started beforehand
in another process (the ``ZEROBUS_SERVER_ENDPOINT`` route), which shows what the client side
alone reaches. Each setup runs `--repeat` times (3) and the median is printed.

    /work/.venv-dev/bin/python benchmarks/quickstart_throughput.py [--records N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def separate_emulator() -> Iterator[dict[str, str]]:
    """An emulator holding the quickstart's table, in its own process; the environment naming it."""
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
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists() or not ready.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)
            info = json.loads(ready.read_text())
            yield {
                "ZEROBUS_SERVER_ENDPOINT": info["grpc_endpoint"],
                "DATABRICKS_HOST": info["workspace_url"],
                "DATABRICKS_CLIENT_ID": info["client_id"],
                "DATABRICKS_CLIENT_SECRET": info["client_secret"],
            }
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per setup; the median is printed")
    options = parser.parse_args()
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROBUS_", "DATABRICKS_"))}
    runs = max(1, options.repeat)
    local = [run_quickstart(options.records, plain) for _ in range(runs)]
    with separate_emulator() as named:
        separate = [run_quickstart(options.records, {**plain, **named}) for _ in range(runs)]
    print(f"{'quickstart setup':<52} {'records/s':>10}")
    print(f"{'zerobus-quickstart (its own local server)':<52} {statistics.median(local):>10,.0f}")
    print(f"{'zerobus-quickstart -> emulator in another process':<52} {statistics.median(separate):>10,.0f}")


if __name__ == "__main__":
    main()
