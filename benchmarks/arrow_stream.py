"""Arrow Flight streams: our `ZerobusArrowStream` (sync) beside the official SDK 1.10's.

Both send ROWS rows of the benchmark table (bench_common's COLUMNS) in BATCH-row RecordBatches
with `create_arrow_stream` + `ingest_batch` per batch + `flush()`, to the same local server
(`zerobus-emulator start` in its own process, materialisation deferred so ingestion is measured
alone). The batches are built before the measured window; the window runs from the first
`ingest_batch` until `flush()` returned (every row durable). The official SDK runs in its own
venv through a subprocess (tests/support/official_sdk.py, benchmarks/arrow_stream_official.py).
Printed: rows/s, client CPU per row, the server's CPU share (1.0 = one core busy), and ours
relative to the official run (target >= 1.0x).

Against the local server both clients wait on it (its CPU share near 1.0), so the same runs are
repeated against an acknowledge-only Flight peer (benchmarks/flight_ack_sink.py, its own
process): there the server is not the bottleneck and the comparison measures the clients.

    .venv/bin/python benchmarks/arrow_stream.py [--rows N] [--batch N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import COLUMNS, Emulator, Measurement, ack_sink, emulator, own_cpu_seconds
from server_arrow import make_batches

from tests.support.official_sdk import OFFICIAL_CWD, official_command, official_env, official_sdk_python
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.sync import ZerobusSdk

LOADER = Path(__file__).with_name("arrow_stream_official.py")
OURS, OFFICIAL, WARM_UP = "bench.arrow.ours", "bench.arrow.official", "bench.arrow.warm_up"


def run_ours(server: Emulator, rows: int, batch: int, table: str = OURS) -> Measurement:
    schema = schema_from_ddl(COLUMNS, table).arrow_schema()
    batches = make_batches(schema, rows, batch)
    sdk = ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    stream = sdk.create_arrow_stream(table, schema, server.client_id, server.client_secret)
    server_cpu, client_cpu, start = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    for each in batches:
        stream.ingest_batch(each)
    stream.flush()
    seconds = time.perf_counter() - start
    measured = Measurement(rows, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - client_cpu)
    stream.close()
    sdk.close()
    return measured


def run_official(python: Path, server: Emulator, rows: int, batch: int) -> Measurement:
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
    process = subprocess.Popen(
        official_command(python, str(LOADER)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=official_env("error"),
        cwd=OFFICIAL_CWD,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(case) + "\n")
    process.stdin.flush()
    _read_message(process, "ready")
    server_cpu = server.cpu_seconds()
    process.stdin.write("go\n")
    process.stdin.flush()
    result = _read_message(process, "seconds")
    server_cpu = server.cpu_seconds() - server_cpu
    process.wait(120)
    return Measurement(rows, result["seconds"], server_cpu, result["client_cpu_s"])


def _read_message(process: subprocess.Popen[str], key: str) -> dict[str, Any]:
    assert process.stdout is not None
    for line in process.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and key in message:
            return message
    stderr = process.stderr.read() if process.stderr else ""
    raise SystemExit(f"official Arrow loader failed: {stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    python, reason = official_sdk_python()
    if python is None:
        print(f"official SDK unavailable ({reason}); its rows are skipped")
    with emulator([OURS, OFFICIAL, WARM_UP], materialize_delay_s=3600) as server:
        # The server's first Arrow batches pay its one-time setup: neither measured run should.
        run_ours(server, args.batch * 2, args.batch, WARM_UP)
        report("local server", measure(python, server, args.rows, args.batch), args)
        with ack_sink(server, "flight_ack_sink.py") as sink:
            report("acknowledge-only Flight peer", measure(python, sink, args.rows, args.batch), args)


def measure(python: Path | None, server: Emulator, rows: int, batch: int) -> dict[str, Measurement]:
    results = {"ours (sync)": run_ours(server, rows, batch)}
    if python is not None:
        results["official 1.10"] = run_official(python, server, rows, batch)
    return results


def report(against: str, results: dict[str, Measurement], args: argparse.Namespace) -> None:
    official = results.get("official 1.10")
    print(f"\n{args.rows:,} rows in {args.batch:,}-row batches, one Arrow stream each, against the {against}")
    print(
        f"{'client':<14} {'rows/s':>12} {'client CPU/row':>15} {'server CPU share':>17} {'vs official':>12}"
    )
    for name, measured in results.items():
        versus = f"{measured.rate / official.rate:.2f}x" if official is not None else "-"
        per_row_us = measured.client_cpu_s / measured.records * 1e6
        print(
            f"{name:<14} {measured.rate:>12,.0f} {per_row_us:>13.3f}us {measured.server_share:>17.2f} {versus:>12}"
        )
    if official is not None:
        ours = results["ours (sync)"]
        cpu_ratio = (official.client_cpu_s / official.records) / (ours.client_cpu_s / ours.records)
        print(f"client CPU per row: official / ours = {cpu_ratio:.2f}x (above 1: ours uses less)")


if __name__ == "__main__":
    main()
