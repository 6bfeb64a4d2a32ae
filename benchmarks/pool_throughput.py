"""Stream pool throughput: one stream against a pool, on a rate-limited and on an unlimited server.

    .venv/bin/python benchmarks/pool_throughput.py [--limited-records N] [--records N] [--streams 8]
        [--repeat 3] [--only limited|unlimited] [--against ack-peer|local|both]
        [--driver sync|asyncio|both] [--max-inflight N]

1. The local server in its own process with ``--stream-rate-limit 15000`` (the service's
   per-stream record limit): one stream against a pool of `--streams` streams, records/s from the
   first ingest call until everything is acknowledged, and their ratio (ideal: the stream count).
2. No limit: a plain stream against pools of 1, 2, 4 ... streams, to show what routing through
   a pool costs per record. By default the server is the acknowledge-only peer
   (benchmarks/ack_sink.py, its own process), which never sets the pace, so wall time shows
   the client's cost too; ``--against local`` uses the local server instead. Each pass runs
   every case once (the cases interleave), and each row is the median of `--repeat` passes:
   records/s, the client's CPU time per record, and the pool's overhead against the plain
   stream in wall time and in client CPU. A pool keeps records on a stream that keeps up
   (`zerobus.sdk.shared.pool_core`), so each pool row says how many of its streams took records;
   ``--max-inflight 4000`` (every stream's window, plain or pooled) makes the pools spread
   records over all their streams.

Records are the benchmark table's compiled messages, built inside the measured window, sent
one call per record. Each row prints the server's CPU share (CPU seconds per wall second, 1.0 =
one core busy) and the client's; a row whose server share is 0.85 or more is marked
server-bound: the single-threaded server, not the client, set its pace.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (
    BASE_TS_MICROS,
    DEVICES,
    Emulator,
    Measurement,
    ack_sink,
    emulator,
    own_cpu_seconds,
)

from zerobus.schema.descriptor import message_class
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk import aio, sync
from zerobus.sdk.shared import StreamConfigurationOptions, TableProperties
from zerobus.server.rate_limit import SERVICE_RECORDS_PER_S

SCHEMA = schema_from_ddl(
    "id BIGINT NOT NULL, device STRING, value DOUBLE, ts TIMESTAMP, ok BOOLEAN", "bench.pool.t"
)
RECORD = message_class(SCHEMA)
SERVER_BOUND_SHARE = 0.85
FREE_TABLE = "bench.pool.free"
# `--max-inflight`: every stream's `max_inflight_records` (None: the default), plain or pooled.
OPTIONS: dict[str, StreamConfigurationOptions | None] = {"options": None}


@dataclass
class PoolMeasurement(Measurement):
    """A measurement, and how many of the pool's streams took records (1 for a plain stream)."""

    streams_used: int = 1


def streams_used(target: Any) -> int:
    """How many streams of a pool (or a plain stream: 1) took records."""
    streams = getattr(target, "streams", None)
    if streams is None:
        return 1
    return sum(1 for stream in streams if stream.stats().ingested_records)


def build(i: int) -> Any:
    return RECORD(id=i, device=DEVICES[i % 100], value=i * 0.5, ts=BASE_TS_MICROS + i, ok=i % 2 == 0)


def open_target(sdk: Any, server: Emulator, table: str, streams: int | None) -> Any:
    """A plain stream (`streams` None) or a pool of `streams` streams, of either driver's SDK."""
    properties = TableProperties(table, RECORD.DESCRIPTOR)
    options = OPTIONS["options"]
    if streams is None:
        return sdk.create_stream(server.client_id, server.client_secret, properties, options)
    return sdk.create_stream_pool(
        server.client_id, server.client_secret, properties, options, streams=streams
    )


def run(server: Emulator, table: str, records: int, streams: int | None) -> PoolMeasurement:
    """Ingest `records` through a plain stream (`streams` None) or a pool of `streams`; until acknowledged."""
    sdk = sync.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    target = open_target(sdk, server, table, streams)
    ingest = target.ingest_record_offset
    server_cpu, cpu, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    for i in range(records):
        ingest(build(i))
    target.flush()
    seconds = time.perf_counter() - started
    server_cpu, cpu = server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu
    measured = PoolMeasurement(records, seconds, server_cpu, cpu, streams_used(target))
    target.close()
    sdk.close()
    return measured


def run_aio(server: Emulator, table: str, records: int, streams: int | None) -> PoolMeasurement:
    """`run` with the asyncio SDK (one event loop per case)."""

    async def measure() -> PoolMeasurement:
        sdk = aio.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
        target = await open_target(sdk, server, table, streams)
        ingest = target.ingest_record_offset
        server_cpu, cpu, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        for i in range(records):
            await ingest(build(i))
        await target.flush()
        seconds = time.perf_counter() - started
        server_cpu, cpu = server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu
        measured = PoolMeasurement(records, seconds, server_cpu, cpu, streams_used(target))
        await target.close()
        await sdk.close()
        return measured

    return asyncio.run(measure())


Runner = Callable[[Emulator, str, int, int | None], PoolMeasurement]
RUNNERS: dict[str, Runner] = {
    "sync": run,
    "asyncio": run_aio,
}


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


def unlimited(records: int, streams: int, repeat: int, against: str, driver: str) -> None:
    """A plain stream against pools of 1, 2, 4 ... streams, passes interleaved, medians printed."""
    sizes = [n for n in (1, 2, 4, 8, 16) if n <= streams]
    with emulator([FREE_TABLE], materialize_delay_s=3600.0) as server:
        if against == "local":
            print(f"unlimited local server ({driver}, per-record API, median of {repeat} passes):")
            compare(server, records, sizes, repeat, RUNNERS[driver])
            return
        with ack_sink(server) as sink:
            print(f"acknowledge-only peer ({driver}, per-record API, median of {repeat} passes):")
            compare(sink, records, sizes, repeat, RUNNERS[driver])


def compare(
    server: Emulator,
    records: int,
    sizes: list[int],
    repeat: int,
    runner: Runner,
) -> None:
    """Each pass runs every case once (plain, pool of 1, 2 ...), so a busy spell hits them alike."""
    runner(server, FREE_TABLE, records // 10, None)  # warm up the server and the client
    passes: dict[int | None, list[PoolMeasurement]] = {size: [] for size in [None, *sizes]}
    for _ in range(repeat):
        for size, measured in passes.items():
            measured.append(runner(server, FREE_TABLE, records, size))
    median = {size: sorted(ms, key=lambda m: m.rate)[len(ms) // 2] for size, ms in passes.items()}
    cpu = {size: statistics.median(client_us(m) for m in ms) for size, ms in passes.items()}
    plain = median[None]
    row("plain stream", plain, cpu_us=cpu[None])
    for size in sizes:
        wall = plain.rate / median[size].rate - 1
        cost = cpu[size] / cpu[None] - 1
        used = max(m.streams_used for m in passes[size])
        row(
            f"pool of {size} ({used} used)",
            median[size],
            f"   vs plain: {wall:+.1%} wall, {cost:+.1%} client CPU",
            cpu_us=cpu[size],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--limited-records", type=int, default=60_000, help="records per stream, limited server"
    )
    parser.add_argument("--records", type=int, default=200_000, help="records per case, unlimited")
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["limited", "unlimited"], default=None)
    parser.add_argument(
        "--against",
        choices=["ack-peer", "local", "both"],
        default="ack-peer",
        help="the unlimited section's server: the acknowledge-only peer, the local server, or both",
    )
    parser.add_argument("--driver", choices=["sync", "asyncio", "both"], default="sync")
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=None,
        help="max_inflight_records of every stream, plain or pooled: a small window makes a pool "
        "spread records over its streams even when the server keeps up",
    )
    args = parser.parse_args()
    if args.max_inflight is not None:
        OPTIONS["options"] = StreamConfigurationOptions(max_inflight_records=args.max_inflight)
    if args.only != "unlimited":
        limited(args.limited_records, args.streams)
    if args.only == "limited":
        return
    drivers = ["sync", "asyncio"] if args.driver == "both" else [args.driver]
    servers = ["ack-peer", "local"] if args.against == "both" else [args.against]
    for against in servers:
        for driver in drivers:
            unlimited(args.records, args.streams, args.repeat, against, driver)


if __name__ == "__main__":
    main()
