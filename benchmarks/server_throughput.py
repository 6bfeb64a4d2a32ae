"""Benchmark of the local server alone: records/s on ONE stream, durable acks and validation on.

A Python gRPC client cannot send 15,000 requests/s, so the load comes from the official
Rust-backed SDK (`benchmarks/server_load_official.py`, run in its own venv through subprocess,
see tests/support/official_sdk.py). The server runs in this process, so its CPU time is this
process's CPU time (ingestion and, concurrently, materialisation into Delta); the share is
CPU seconds per wall second (1.0 = one core busy).

    .venv/bin/python benchmarks/server_throughput.py [--single N] [--batched N]

The real service allows 15,000 records/s per stream; the "vs limit" column is the ratio to that.
The table has a SMALLINT column, so every record also goes through a Python range check.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.official_sdk import official_sdk_python, run_official  # noqa: E402
from zerobus.schema.descriptor import descriptor_proto  # noqa: E402
from zerobus.server import LocalZerobusServer  # noqa: E402

SERVICE_LIMIT_PER_STREAM = 15_000
COLUMNS = "id BIGINT NOT NULL, name STRING, value DOUBLE, ts TIMESTAMP, small SMALLINT"
LOADER = Path(__file__).with_name("server_load_official.py")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_case(
    python: Path, server: LocalZerobusServer, table: str, records: int, batch: int
) -> dict[str, float]:
    schema = server.table_schema(table)
    args = {
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": table,
        "descriptor": base64.b64encode(descriptor_proto(schema).SerializeToString()).decode(),
        "records": records,
        "batch": batch,
    }
    cpu_before, wall_before = _cpu_seconds(), time.perf_counter()
    result = run_official(python, str(LOADER), stdin=json.dumps(args), timeout=600, rust_log="error")
    cpu, wall = _cpu_seconds() - cpu_before, time.perf_counter() - wall_before
    if result.returncode != 0:
        raise SystemExit(f"load generator failed:\n{result.stderr[-3000:]}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "records_per_s": measured["records_per_s"],
        "seconds": measured["seconds"],
        "cpu_share": cpu / wall,
        "cpu_us_per_record": cpu / records * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", type=int, default=200_000, help="records sent one per request")
    parser.add_argument("--batched", type=int, default=1_000_000, help="records sent in 1000-record batches")
    parser.add_argument(
        "--materialize-delay",
        type=float,
        default=2.0,
        help="the server's materialisation delay (its Delta writes share the CPU with ingestion); "
        "with a long one (3600) ingestion is measured alone and materialisation after the runs",
    )
    options = parser.parse_args()
    python, reason = official_sdk_python()
    if python is None:
        raise SystemExit(f"the official SDK is needed as the load generator: {reason}")
    with (
        tempfile.TemporaryDirectory() as data_dir,
        LocalZerobusServer(data_dir=data_dir, materialize_delay_s=options.materialize_delay) as server,
    ):
        server.create_table("bench.server.single", COLUMNS)
        server.create_table("bench.server.batched", COLUMNS)
        cases = {
            "1 record per request, 1 stream": ("bench.server.single", options.single, 1),
            "1000-record batches, 1 stream": ("bench.server.batched", options.batched, 1000),
        }
        results = {
            name: run_case(python, server, table, records, batch)
            for name, (table, records, batch) in cases.items()
            if records > 0  # 0 skips the case
        }
        stored = server.stats.records_stored
        rows_before, cpu_before = server.stats.rows_materialized, _cpu_seconds()
        server.flush_materialization(timeout_s=600)
        flush_cpu = _cpu_seconds() - cpu_before
        materialized = server.stats.rows_materialized
        flushed = materialized - rows_before
    print(f"cores: {os.cpu_count()}  (server and load generator share them)")
    print(f"{'case':<34} {'records/s':>12} {'vs limit':>9} {'server CPU share':>17} {'server us/rec':>14}")
    for name, case in results.items():
        ratio = case["records_per_s"] / SERVICE_LIMIT_PER_STREAM
        print(
            f"{name:<34} {case['records_per_s']:>12,.0f} {ratio:>8.1f}x {case['cpu_share']:>16.2f}"
            f" {case['cpu_us_per_record']:>14.2f}"
        )
    print(f"records stored durably: {stored:,}; rows materialised into Delta: {materialized:,}")
    if flushed and flushed == materialized:  # with a long --materialize-delay: all of it after the runs
        print(
            f"materialising all {flushed:,} rows after the runs: {flush_cpu / flushed * 1e6:.2f} us CPU/row"
        )


if __name__ == "__main__":
    main()
