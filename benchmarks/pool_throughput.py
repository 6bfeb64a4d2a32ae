"""Stream pool throughput: one stream against a pool, on a rate-limited and on an unlimited server.

    .venv/bin/python benchmarks/pool_throughput.py [--limited-records N] [--records N] [--streams 8]

1. The local server in its own process with ``--stream-rate-limit 15000`` (the service's
   per-stream record limit): one stream against a pool of `--streams` streams, records/s from the
   first ingest call until everything is acknowledged, and their ratio (ideal: the stream count).
2. The same server without a limit: a plain stream against pools of 1, 2, 4 ... streams, to
   show what routing through a pool costs per record (median of `--repeat` passes): in wall
   time, and in the client's CPU time per record, which a busy machine disturbs less.

Records are the benchmark table's compiled messages, built inside the measured window, sent
one call per record with the sync SDK. Each row prints the server's CPU share (CPU seconds per
wall second, 1.0 = one core busy) and the client's; a row whose server share is 0.85 or more
is marked server-bound: the single-threaded Python server, not the client, set its pace.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import BASE_TS_MICROS, DEVICES, Emulator, Measurement, emulator, own_cpu_seconds

from zerobus.schema.descriptor import message_class
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk import sync
from zerobus.sdk.shared import TableProperties
from zerobus.server.rate_limit import SERVICE_RECORDS_PER_S

SCHEMA = schema_from_ddl(
    "id BIGINT NOT NULL, device STRING, value DOUBLE, ts TIMESTAMP, ok BOOLEAN", "bench.pool.t"
)
RECORD = message_class(SCHEMA)
SERVER_BOUND_SHARE = 0.85


def build(i: int) -> Any:
    return RECORD(id=i, device=DEVICES[i % 100], value=i * 0.5, ts=BASE_TS_MICROS + i, ok=i % 2 == 0)


def run(server: Emulator, table: str, records: int, streams: int | None) -> Measurement:
    """Ingest `records` through a plain stream (`streams` None) or a pool of `streams`; until acknowledged."""
    sdk = sync.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    properties = TableProperties(table, RECORD.DESCRIPTOR)
    target: Any
    if streams is None:
        target = sdk.create_stream(server.client_id, server.client_secret, properties)
    else:
        target = sdk.create_stream_pool(server.client_id, server.client_secret, properties, streams=streams)
    ingest = target.ingest_record_offset
    server_cpu, cpu, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    for i in range(records):
        ingest(build(i))
    target.flush()
    seconds = time.perf_counter() - started
    measured = Measurement(records, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu)
    target.close()
    sdk.close()
    return measured


def client_us(measured: Measurement) -> float:
    """The client's CPU time per record, in microseconds (steadier than records/s on a busy machine)."""
    return measured.client_cpu_s / measured.records * 1e6


def row(label: str, measured: Measurement, extra: str = "", cpu_us: float | None = None) -> None:
    """One line; `cpu_us` replaces the measurement's own client CPU per record (a median of passes)."""
    bound = "  server-bound" if measured.server_share >= SERVER_BOUND_SHARE else ""
    per_record = client_us(measured) if cpu_us is None else cpu_us
    print(
        f"  {label:<28} {measured.rate:>11,.0f} records/s   server {measured.server_share:4.2f}"
        f"  client {measured.client_share:4.2f} ({per_record:.2f} us CPU/record){extra}{bound}"
    )


def limited(records: int, streams: int) -> None:
    print(f"rate-limited server (--stream-rate-limit {SERVICE_RECORDS_PER_S:.0f}):")
    with emulator(
        ["bench.pool.limited"], extra_args=("--stream-rate-limit", str(SERVICE_RECORDS_PER_S))
    ) as server:
        one = run(server, "bench.pool.limited", records, None)
        row("one stream", one)
        pool = run(server, "bench.pool.limited", records * streams, streams)
        row(f"pool of {streams} streams", pool, f"   {pool.rate / one.rate:4.2f}x one stream")


def unlimited(records: int, streams: int, repeat: int) -> None:
    print("unlimited server (per-record API, median of passes):")
    sizes = [n for n in (1, 2, 4, 8, 16) if n <= streams]
    with emulator(["bench.pool.free"]) as server:
        run(server, "bench.pool.free", records // 10, None)  # warm up the server and the client
        passes: dict[int | None, list[Measurement]] = {size: [] for size in [None, *sizes]}
        for _ in range(repeat):
            for size, measured in passes.items():
                measured.append(run(server, "bench.pool.free", records, size))
        median = {size: sorted(ms, key=lambda m: m.rate)[len(ms) // 2] for size, ms in passes.items()}
        cpu = {size: statistics.median(client_us(m) for m in ms) for size, ms in passes.items()}
        plain = median[None]
        row("plain stream", plain, cpu_us=cpu[None])
        for size in sizes:
            wall = plain.rate / median[size].rate - 1
            cost = cpu[size] / cpu[None] - 1
            row(
                f"pool of {size}",
                median[size],
                f"   vs plain: {wall:+.0%} wall, {cost:+.0%} client CPU",
                cpu_us=cpu[size],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--limited-records", type=int, default=60_000, help="records per stream, limited server"
    )
    parser.add_argument("--records", type=int, default=200_000, help="records per case, unlimited server")
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["limited", "unlimited"], default=None)
    args = parser.parse_args()
    if args.only != "unlimited":
        limited(args.limited_records, args.streams)
    if args.only != "limited":
        unlimited(args.records, args.streams, args.repeat)


if __name__ == "__main__":
    main()
