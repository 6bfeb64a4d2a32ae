"""`stream.ingest_arrow` on a PROTO stream against the same rows ingested as dicts (issue 12).

The same N rows of a 10-column table (integers, floats, a boolean, strings, a DATE, a TIMESTAMP, a
DECIMAL) go to the local server twice through the sync SDK: once as one pyarrow Table with
`ingest_arrow`, once as dicts of Python values (date, aware datetime, Decimal) with
`ingest_records_offset` in batches of BATCH. Both are built before the measured window (a
user has them already); the window runs from the first ingest call until everything is
acknowledged. The server is `zerobus-emulator start` in its own process; its CPU share (CPU
seconds per wall second) is printed beside the client's. Target: ingest_arrow >= 3x the rows/s
of the dict path, on the same server in the same run.

The local server is one Python process that decodes and checks every record; with a server CPU
share near 1.0 it, not the client, sets the end-to-end pace, and both cases then show about the
server's rate. The client's CPU per row is what ingest_arrow changes, so it is printed too, with
the ratio of client rows per CPU second (what the client could sustain against a faster server).

    .venv/bin/python benchmarks/ingest_arrow.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
from bench_common import DEVICES, Emulator, Measurement, ack_sink, emulator, own_cpu_seconds

from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk import sync
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties

COLUMNS = (
    "id BIGINT NOT NULL, device STRING, value DOUBLE, temperature FLOAT, ok BOOLEAN, count INT, "
    "day DATE, ts TIMESTAMP, amount DECIMAL(10,2), note STRING"
)
BATCH = 10_000
UTC = dt.timezone.utc
START = dt.datetime(2024, 1, 1, tzinfo=UTC)
FIRST_DAY = dt.date(2024, 1, 1)


def make_dicts(rows: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "device": DEVICES[i % 100],
            "value": i * 0.5,
            "temperature": 20.0 + i % 15,
            "ok": i % 2 == 0,
            "count": i % 1000,
            "day": FIRST_DAY + dt.timedelta(days=i % 365),
            "ts": START + dt.timedelta(microseconds=i),
            "amount": decimal.Decimal(i % 100_000).scaleb(-2),
            "note": None if i % 3 else "checked",
        }
        for i in range(rows)
    ]


def make_table(rows: list[dict[str, Any]], schema: Any) -> Any:
    return pa.Table.from_pylist(rows, schema=schema.arrow_schema())


def measure(server: Emulator, table: str, ingest: Callable[[Any], None], rows: int) -> Measurement:
    schema = schema_from_ddl(COLUMNS, table)
    sdk = sync.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    options = StreamConfigurationOptions(record_type=RecordType.PROTO)
    stream = sdk.create_stream(
        server.client_id, server.client_secret, TableProperties(table, schema), options
    )
    server_cpu, cpu = server.cpu_seconds(), own_cpu_seconds()
    started = time.perf_counter()
    ingest(stream)
    stream.flush()
    seconds = time.perf_counter() - started
    measured = Measurement(rows, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu)
    stream.close()
    sdk.close()
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=1, help="passes; each case's median is reported")
    args = parser.parse_args()
    dicts = make_dicts(args.rows)
    arrow_table = make_table(dicts, schema_from_ddl(COLUMNS, "bench.arrow.t"))

    def as_arrow(stream: Any) -> None:
        stream.ingest_arrow(arrow_table)

    def as_dicts(stream: Any) -> None:
        for start in range(0, len(dicts), BATCH):
            stream.ingest_records_offset(dicts[start : start + BATCH])

    cases = {"ingest_arrow (one Table)": as_arrow, f"dicts, ingest_records_offset of {BATCH}": as_dicts}
    tables = [f"bench.arrow.t{n}" for n in range(len(cases) * args.repeat)]
    extra = tuple(arg for name in tables for arg in ("--table", f"{name}: {COLUMNS}"))
    peers = ("local server", "ack-only peer")
    results: dict[tuple[str, str], list[Measurement]] = {
        (peer, label): [] for peer in peers for label in cases
    }
    with emulator([], materialize_delay_s=3600.0, extra_args=extra) as server, ack_sink(server) as sink:
        for peer, target in zip(peers, (server, sink), strict=True):
            names = iter(tables)
            for _ in range(args.repeat):
                for label, ingest in cases.items():
                    results[peer, label].append(measure(target, next(names), ingest, args.rows))
    columns = len(schema_from_ddl(COLUMNS, "bench.arrow.t").columns)
    print(f"{args.rows} rows, {columns} columns, sync driver, PROTO stream")
    print(
        f"{'peer':14} {'case':40} {'rows/s':>10} {'client CPU':>11} {'server CPU':>11} {'client us/row':>14}"
    )
    for peer in peers:
        rates, cpu_per_row = {}, {}
        for label in cases:
            runs = results[peer, label]
            middle = sorted(runs, key=lambda run: run.rate)[len(runs) // 2]
            rates[label] = statistics.median(run.rate for run in runs)
            cpu_per_row[label] = statistics.median(run.client_cpu_s / run.records for run in runs)
            print(
                f"{peer:14} {label:40} {middle.rate:>10,.0f} {middle.client_share:>11.2f} "
                f"{middle.server_share:>11.2f} {cpu_per_row[label] * 1e6:>14.2f}"
            )
        arrow_rate, dict_rate = rates.values()
        arrow_cpu, dict_cpu = cpu_per_row.values()
        print(f"  {peer}: ingest_arrow / dicts, rows/s: {arrow_rate / dict_rate:.2f}x (target >= 3x)")
        print(f"  {peer}: ingest_arrow / dicts, client rows per CPU second: {dict_cpu / arrow_cpu:.2f}x")
    print(
        "The local server decodes and checks every value (server CPU near 1.0 = server-bound); the"
        " ack-only peer acknowledges without decoding, so its rows measure the client."
    )


if __name__ == "__main__":
    main()
