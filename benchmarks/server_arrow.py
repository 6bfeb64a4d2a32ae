"""Benchmark of the local server's Arrow Flight ingestion: rows/s with durable acks, one DoPut.

A pyarrow.flight client in this process sends ROWS rows of the benchmark table (bench_common's
COLUMNS) in BATCH-row RecordBatches, each with its `{"offset_id": N}`, and waits for the ack of
the last one: every row counted is durable (fsynced) on the server. The server is
`zerobus-emulator start` in its own process (its CPU share is read from /proc over the measured
window), with a long materialisation delay so ingestion is measured alone. Materialisation into
Delta is measured afterwards, separately: the server is stopped, which materialises everything
durable, and its CPU time for that is reported per row; the Delta table is then read back.

    .venv/bin/python benchmarks/server_arrow.py [--rows N] [--batch N] [--compression zstd|lz4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pyarrow as pa  # noqa: E402
import pyarrow.flight as flight  # noqa: E402
import requests  # noqa: E402

from benchmarks.bench_common import BASE_TS_MICROS, COLUMNS, DEVICES, EMULATOR, proc_cpu_seconds  # noqa: E402
from zerobus.names import parse_table_name  # noqa: E402
from zerobus.oauth import ingest_token_form  # noqa: E402
from zerobus.schema.parse import schema_from_ddl  # noqa: E402

TABLE = "bench.arrow.events"


def make_batches(schema: pa.Schema, rows: int, batch: int) -> list[pa.RecordBatch]:
    """The rows as Arrow batches, built column-wise (the client's cost is not what is measured)."""
    batches = []
    devices = pa.array(DEVICES)
    for start in range(0, rows, batch):
        ids = pa.array(range(start, min(start + batch, rows)), pa.int64())
        count = len(ids)
        columns = [
            ids,
            devices.take(pa.array([i % 100 for i in range(start, start + count)])),
            pa.array([i * 0.5 for i in range(start, start + count)], pa.float64()),
            pa.array(range(BASE_TS_MICROS + start, BASE_TS_MICROS + start + count), pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            pa.array([i % 2 == 0 for i in range(start, start + count)]),
        ]
        batches.append(pa.RecordBatch.from_arrays(columns, schema=schema))
    return batches


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    ready = data_dir / "ready.json"
    command = [
        str(EMULATOR),
        "start",
        "--data-dir",
        str(data_dir / "data"),
        "--grpc-port",
        "0",
        "--http-port",
        "0",
        "--ready-file",
        str(ready),
        "--materialize-delay",
        "3600",
        "--table",
        f"{TABLE}: {COLUMNS}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ready.exists() or not ready.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the emulator did not start")
        time.sleep(0.05)
    info: dict[str, str] = json.loads(ready.read_text())
    return process, info


def ingest(info: dict[str, str], batches: list[pa.RecordBatch], compression: str | None) -> None:
    """Send every batch on one DoPut, then wait for the ack covering the last one."""
    response = requests.post(
        info["workspace_url"] + "/oidc/v1/token",
        data=ingest_token_form(parse_table_name(TABLE), "1234567890123456"),
        auth=(info["client_id"], info["client_secret"]),
        timeout=30,
    )
    response.raise_for_status()
    token = response.json()["access_token"]
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"x-databricks-zerobus-table-name", TABLE.encode()),
    ]
    write_options = pa.ipc.IpcWriteOptions(compression=compression) if compression else None
    options = flight.FlightCallOptions(headers=headers, write_options=write_options)
    port = info["grpc_endpoint"].rsplit(":", 1)[1]
    client = flight.connect(f"grpc://127.0.0.1:{port}")
    writer, reader = client.do_put(flight.FlightDescriptor.for_path(TABLE), batches[0].schema, options)
    ready = json.loads(reader.read().to_pybytes())
    assert ready["ack_up_to_offset"] == -1, ready
    for offset, batch in enumerate(batches):
        writer.write_with_metadata(batch, json.dumps({"offset_id": offset}).encode())
    last = len(batches) - 1
    while True:
        ack = json.loads(reader.read().to_pybytes())
        if ack["ack_up_to_offset"] >= last:
            break
    writer.done_writing()
    writer.close()
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--compression", choices=["lz4", "zstd"], default=None)
    options = parser.parse_args()
    schema = schema_from_ddl(COLUMNS, TABLE).arrow_schema()
    batches = make_batches(schema, options.rows, options.batch)
    megabytes = sum(b.nbytes for b in batches) / 1e6
    with tempfile.TemporaryDirectory() as scratch:
        process, info = start_server(Path(scratch))
        try:
            cpu_before, wall_before = proc_cpu_seconds(process.pid), time.perf_counter()
            ingest(info, batches, options.compression)
            wall = time.perf_counter() - wall_before
            server_cpu = proc_cpu_seconds(process.pid) - cpu_before
            cpu_at_stop = proc_cpu_seconds(process.pid)
        finally:
            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            stop_wall = time.perf_counter()
            process.send_signal(signal.SIGINT)  # a stop materialises everything durable
            process.wait(600)
            stop_wall = time.perf_counter() - stop_wall
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = (children.ru_utime + children.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
        materialise_cpu = child_cpu - cpu_at_stop
        from deltalake import DeltaTable

        delta_dirs = list((Path(scratch) / "data").rglob("_delta_log"))
        rows_in_delta = sum(DeltaTable(str(d.parent)).to_pyarrow_dataset().count_rows() for d in delta_dirs)
    print(f"cores: {os.cpu_count()}  (server and client share them)")
    print(
        f"{options.rows:,} rows in {len(batches)} batches of {options.batch:,} ({megabytes:.0f} MB of Arrow), "
        f"compression: {options.compression or 'none'}"
    )
    print(f"{'case':<36} {'rows/s':>12} {'MB/s':>8} {'server CPU share':>17} {'server us/row':>14}")
    print(
        f"{'ingest, durable acks, 1 DoPut':<36} {options.rows / wall:>12,.0f} {megabytes / wall:>8.0f}"
        f" {server_cpu / wall:>17.2f} {server_cpu / options.rows * 1e6:>14.3f}"
    )
    print(
        f"{'materialise into Delta (at stop)':<36} {options.rows / stop_wall:>12,.0f} {'':>8}"
        f" {materialise_cpu / stop_wall:>17.2f} {materialise_cpu / options.rows * 1e6:>14.3f}"
    )
    print(f"rows read back from Delta: {rows_in_delta:,}")


if __name__ == "__main__":
    main()
