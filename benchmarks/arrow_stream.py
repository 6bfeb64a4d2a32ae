"""Arrow Flight streams: our `ZerobusArrowStream` (sync) beside the official SDK 1.10's.

Both send ROWS rows of the benchmark table (bench_common's COLUMNS) in BATCH-row RecordBatches
with `create_arrow_stream` + `ingest_batch` per batch + `flush()`, to the same local server
(`zerobus-emulator start` in its own process, materialisation deferred so ingestion is measured
alone). The batches are built before the measured window; the window runs from the first
`ingest_batch` until `flush()` returned (every row durable). The official SDK runs in its own
venv through a subprocess (tests/support/official_sdk.py, benchmarks/arrow_stream_official.py).
Printed: rows/s, client CPU per row, the server's CPU share (1.0 = one core busy), and ours
relative to the official run (target >= 1.0x): the medians of ROUNDS measured rounds per client,
interleaved (A B B A ...), each on a new stream, with the machine's load average beside them.

Against the local server both clients wait on it (its CPU share near 1.0), so the same runs are
repeated against an acknowledge-only Flight peer (benchmarks/flight_ack_sink.py, its own
process): there the server is not the bottleneck and the comparison measures the clients.

    .venv/bin/python benchmarks/arrow_stream.py [--rows N] [--batch N] [--rounds N] [--peer-only]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
from bench_common import COLUMNS, Emulator, Measurement, ack_sink, emulator, own_cpu_seconds
from server_arrow import make_batches

from tests.support.official_sdk import OFFICIAL_CWD, official_command, official_env, official_sdk_python
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.sync import ZerobusSdk

LOADER = Path(__file__).with_name("arrow_stream_official.py")
OURS, OFFICIAL, WARM_UP = "bench.arrow.ours", "bench.arrow.official", "bench.arrow.warm_up"


def run_ours(server: Emulator, batches: list[pa.RecordBatch], table: str = OURS) -> Measurement:
    """One measured round of our sync stream: every batch ingested, then `flush()`."""
    rows = sum(each.num_rows for each in batches)
    sdk = ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    stream = sdk.create_arrow_stream(table, batches[0].schema, server.client_id, server.client_secret)
    server_cpu, client_cpu, start = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    for each in batches:
        stream.ingest_batch(each)
    stream.flush()
    seconds = time.perf_counter() - start
    measured = Measurement(rows, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - client_cpu)
    stream.close()
    sdk.close()
    return measured


class OfficialClient:
    """The official SDK's loader (its own process, its own venv) against one endpoint.

    The process builds the batches once; each `run()` is one measured round on a new stream.
    """

    def __init__(self, python: Path, server: Emulator, rows: int, batch: int) -> None:
        schema = schema_from_ddl(COLUMNS, OFFICIAL).arrow_schema()
        case = {
            "endpoint": server.grpc_endpoint,
            "workspace_url": server.workspace_url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "table": OFFICIAL,
            "schema_hex": schema.serialize().to_pybytes().hex(),
            "rows": rows,
            "batch": batch,
        }
        self._server, self._rows = server, rows
        self._process = subprocess.Popen(
            official_command(python, str(LOADER)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=official_env("error"),
            cwd=OFFICIAL_CWD,
        )
        self._send(json.dumps(case))

    def run(self) -> Measurement:
        self._read_message("ready")
        server_cpu = self._server.cpu_seconds()
        self._send("go")
        result = self._read_message("seconds")
        server_cpu = self._server.cpu_seconds() - server_cpu
        return Measurement(self._rows, result["seconds"], server_cpu, result["client_cpu_s"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send("stop")
        try:
            self._process.wait(60)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def _send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def _read_message(self, key: str) -> dict[str, Any]:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and key in message:
                return message
        stderr = self._process.stderr.read() if self._process.stderr else ""
        raise SystemExit(f"official Arrow loader failed: {stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per client, interleaved")
    parser.add_argument("--peer-only", action="store_true", help="skip the runs against the local server")
    args = parser.parse_args()
    python, reason = official_sdk_python()
    if python is None:
        print(f"official SDK unavailable ({reason}); its rows are skipped")
    batches = make_batches(schema_from_ddl(COLUMNS, OURS).arrow_schema(), args.rows, args.batch)
    with emulator([OURS, OFFICIAL, WARM_UP], materialize_delay_s=3600) as server:
        # The server's first Arrow batches pay its one-time setup: neither measured run should.
        run_ours(server, batches[:2], WARM_UP)
        if not args.peer_only:
            loaded = load_average()
            report("local server", measure(python, server, batches, args), args, loaded)
        with ack_sink(server, "flight_ack_sink.py") as sink:
            run_ours(sink, batches[:2], WARM_UP)
            loaded = load_average()
            report("acknowledge-only Flight peer", measure(python, sink, batches, args), args, loaded)


def measure(
    python: Path | None, server: Emulator, batches: list[pa.RecordBatch], args: argparse.Namespace
) -> dict[str, list[Measurement]]:
    """`args.rounds` rounds of each client, interleaved (A B B A ...) so that drift hits both alike."""
    results: dict[str, list[Measurement]] = {"ours (sync)": []}
    official = OfficialClient(python, server, args.rows, args.batch) if python is not None else None
    try:
        for round_number in range(args.rounds):
            runs: list[tuple[str, Callable[[], Measurement]]] = [
                ("ours (sync)", lambda: run_ours(server, batches))
            ]
            if official is not None:
                runs.append(("official 1.10", official.run))
            if round_number % 2:
                runs.reverse()
            for name, run in runs:
                results.setdefault(name, []).append(run())
    finally:
        if official is not None:
            official.close()
    return results


def load_average() -> str:
    """The machine's 1, 5 and 15-minute load averages (`uptime`): the measurements' context."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def report(
    against: str, results: dict[str, list[Measurement]], args: argparse.Namespace, loaded: str
) -> None:
    """Medians over the rounds: rows/s, client CPU per row, the server's CPU share, ours vs official."""
    print(
        f"\n{args.rows:,} rows in {args.batch:,}-row batches, one Arrow stream each, against the "
        f"{against}; median of {args.rounds} interleaved rounds (load average before {loaded}, "
        f"after {load_average()})"
    )
    print(
        f"{'client':<14} {'rows/s':>12} {'client CPU/row':>15} {'server CPU share':>17} {'vs official':>12}"
    )
    rates = {name: statistics.median(m.rate for m in runs) for name, runs in results.items()}
    cpu_per_row = {
        name: statistics.median(m.client_cpu_s / m.records for m in runs) for name, runs in results.items()
    }
    official = rates.get("official 1.10")
    for name, runs in results.items():
        versus = f"{rates[name] / official:.2f}x" if official is not None else "-"
        share = statistics.median(m.server_share for m in runs)
        print(
            f"{name:<14} {rates[name]:>12,.0f} {cpu_per_row[name] * 1e6:>13.3f}us {share:>17.2f} {versus:>12}"
        )
        print(f"{'':<14} rounds: {', '.join(f'{m.rate:,.0f}' for m in runs)} rows/s")
    if official is not None:
        ratio = cpu_per_row["official 1.10"] / cpu_per_row["ours (sync)"]
        print(f"client CPU per row: official / ours = {ratio:.2f}x (above 1: ours uses less)")


if __name__ == "__main__":
    main()
