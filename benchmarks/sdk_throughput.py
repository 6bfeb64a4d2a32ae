"""SDK throughput: records/s from the first ingest call until everything is acknowledged.

Our SDK (sync and asyncio drivers) beside the official Rust-backed SDK (its own venv, run
through subprocess: tests/support/official_sdk.py) on the same local server in the same run,
and beside the cost floor: building and serializing the same records with no SDK at all.
Records are built inside the measured window in every case (what a user's loop pays).

    .venv/bin/python benchmarks/sdk_throughput.py [--records N] [--quick] [--repeat N]

The server runs in its own process; its CPU share (CPU seconds per wall second, 1.0 = one
core busy) is printed beside each figure. A share near 1.0 means the single-threaded Python
server, not the client, set the pace. Targets (issue 4): our per-record API >= 1.5x the
official per-record API and >= 0.6x the floor; our dict path >= 2x the official JSON dict path.

Small machines are noisy (about 10% between passes), so our cases and the floors run
`--repeat` times (3) and each row is the median pass; the per-pass ratios to the floor of the
same pass are printed at the end. The official SDK's cases run once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
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
    COLUMNS,
    DEVICES,
    Emulator,
    Measurement,
    emulator,
    own_cpu_seconds,
    record_datetime,
    record_dict,
)

from tests.support.official_sdk import OFFICIAL_CWD, official_command, official_env, official_sdk_python
from zerobus.codegen.runtime_model import model_class
from zerobus.schema.descriptor import descriptor_proto, message_class
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk import aio, sync
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties

LOADER = Path(__file__).with_name("sdk_load_official.py")
BATCH = 1000
SCHEMA = schema_from_ddl(COLUMNS, "bench.sdk.events")
RECORD = message_class(SCHEMA)
MODEL = model_class(SCHEMA)
SERVER_BOUND_SHARE = 0.85


def build_pb2(i: int) -> Any:
    return RECORD(id=i, device=DEVICES[i % 100], value=i * 0.5, ts=BASE_TS_MICROS + i, ok=i % 2 == 0)


def build_model(i: int) -> Any:
    return MODEL(id=i, device=DEVICES[i % 100], value=i * 0.5, ts=record_datetime(i), ok=i % 2 == 0)


BUILDERS: dict[str, Callable[[int], Any]] = {
    "pb2": build_pb2,
    "dict": record_dict,
    "pydantic": build_model,
    "json": lambda i: json.dumps(record_dict(i)),
}


@dataclass(frozen=True)
class Case:
    who: str  # "ours" | "official" | "floor"
    driver: str  # "sync" | "aio" | "-"
    shape: str
    api: str  # "record" | "batch"

    @property
    def label(self) -> str:
        if self.who == "floor":
            return f"floor: build + serialize {self.shape} (no SDK)"
        api = "per-record" if self.api == "record" else f"batch of {BATCH}"
        return f"{self.who} {self.driver} {self.shape} {api}"


# --- the floor --------------------------------------------------------------------------------------


def run_floor(shape: str, records: int) -> Measurement:
    build = BUILDERS[shape]
    cpu, started = own_cpu_seconds(), time.perf_counter()
    if shape == "json":
        for i in range(records):
            build(i)
    elif shape == "dict":
        for i in range(records):
            RECORD(**build(i)).SerializeToString()
    elif shape == "pydantic":
        for i in range(records):
            build(i).to_proto_bytes()
    else:
        for i in range(records):
            build(i).SerializeToString()
    return Measurement(records, time.perf_counter() - started, 0.0, own_cpu_seconds() - cpu)


# --- our SDK ----------------------------------------------------------------------------------------


def _our_table_properties(case: Case, table: str) -> tuple[TableProperties, StreamConfigurationOptions]:
    if case.shape == "json":
        return TableProperties(table), StreamConfigurationOptions(record_type=RecordType.JSON)
    descriptor = {"pb2": RECORD.DESCRIPTOR, "pydantic": MODEL}.get(case.shape)  # dicts: schema from UC
    return TableProperties(table, descriptor), StreamConfigurationOptions()


def run_ours_sync(server: Emulator, case: Case, table: str, records: int) -> Measurement:
    sdk = sync.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    properties, options = _our_table_properties(case, table)
    stream = sdk.create_stream(server.client_id, server.client_secret, properties, options)
    build = BUILDERS[case.shape]
    server_cpu, cpu, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    if case.api == "record":
        ingest = stream.ingest_record_offset
        for i in range(records):
            ingest(build(i))
    else:
        for start in range(0, records, BATCH):
            stream.ingest_records_offset([build(i) for i in range(start, start + BATCH)])
    stream.flush()
    seconds = time.perf_counter() - started
    measured = Measurement(records, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu)
    stream.close()
    sdk.close()
    return measured


def run_ours_aio(server: Emulator, case: Case, table: str, records: int) -> Measurement:
    async def main() -> Measurement:
        sdk = aio.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
        properties, options = _our_table_properties(case, table)
        stream = await sdk.create_stream(server.client_id, server.client_secret, properties, options)
        build = BUILDERS[case.shape]
        server_cpu, cpu, started = server.cpu_seconds(), own_cpu_seconds(), time.perf_counter()
        if case.api == "record":
            ingest = stream.ingest_record_offset
            for i in range(records):
                await ingest(build(i))
        else:
            for start in range(0, records, BATCH):
                await stream.ingest_records_offset([build(i) for i in range(start, start + BATCH)])
        await stream.flush()
        seconds = time.perf_counter() - started
        measured = Measurement(records, seconds, server.cpu_seconds() - server_cpu, own_cpu_seconds() - cpu)
        await stream.close()
        await sdk.close()
        return measured

    return asyncio.run(main())


# --- the official SDK -------------------------------------------------------------------------------


def run_official(python: Path, server: Emulator, case: Case, table: str, records: int) -> Measurement:
    arguments = {
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": table,
        "descriptor": base64.b64encode(descriptor_proto(SCHEMA).SerializeToString()).decode(),
        "records": records,
        "shape": case.shape,
        "api": case.api,
        "driver": case.driver,
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
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(json.dumps(arguments) + "\n")
    process.stdin.flush()
    _read_message(process, "ready")
    server_cpu = server.cpu_seconds()
    process.stdin.write("go\n")
    process.stdin.flush()
    result = _read_message(process, "seconds")
    server_cpu = server.cpu_seconds() - server_cpu
    process.wait(120)
    return Measurement(records, result["seconds"], server_cpu, result["client_cpu_s"])


def _read_message(process: subprocess.Popen[str], key: str) -> dict[str, Any]:
    """The loader's next JSON line holding `key` (anything else it prints is skipped)."""
    assert process.stdout is not None
    for line in process.stdout:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and key in message:
            return message
    stderr = process.stderr.read() if process.stderr else ""
    raise SystemExit(f"official load generator failed: {stderr[-3000:]}")


def official_has_pydantic(python: Path) -> bool:
    probe = subprocess.run([str(python), "-I", "-c", "import pydantic"], capture_output=True, check=False)
    return probe.returncode == 0


# --- the run ---------------------------------------------------------------------------------------


def cases(quick: bool) -> list[Case]:
    chosen = [Case("floor", "-", shape, "record") for shape in ("pb2", "dict", "pydantic", "json")]
    pairs = [
        ("sync", "pb2", "record"),
        ("sync", "pb2", "batch"),
        ("sync", "dict", "record"),
        ("sync", "dict", "batch"),
        ("sync", "pydantic", "record"),
        ("sync", "json", "record"),
        ("aio", "pb2", "record"),
        ("aio", "pb2", "batch"),
        ("aio", "dict", "record"),
        ("aio", "json", "record"),
    ]
    if quick:
        pairs = pairs[:1] + pairs[2:3]
    for driver, shape, api in pairs:
        chosen += [Case("ours", driver, shape, api), Case("official", driver, shape, api)]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=200_000, help="records per case")
    parser.add_argument("--quick", action="store_true", help="only the per-record pb2 and dict cases")
    parser.add_argument(
        "--case",
        action="append",
        choices=sorted(BUILDERS),
        help="only the cases of this record shape (repeatable): --case pydantic is the model path",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="passes over our cases and the floors (the official SDK runs once); each row is the median pass",
    )
    options = parser.parse_args()
    python, reason = official_sdk_python()
    if python is None:
        print(f"official SDK unavailable ({reason}); its rows are skipped")
    pydantic_ok = python is not None and official_has_pydantic(python)
    plan = [case for case in cases(options.quick) if not options.case or case.shape in options.case]
    passes = max(1, options.repeat)
    tables = [f"bench.sdk.case_{n}_{p}" for p in range(passes) for n in range(len(plan))]
    runs: dict[Case, list[Measurement | None]] = {case: [] for case in plan}
    # Materialisation is pushed past the run: the server's CPU goes to ingesting and acking.
    with emulator(tables, materialize_delay_s=3600) as server:
        for done in range(passes):
            for n, case in enumerate(plan):
                if case.who == "official" and done:
                    continue  # slow, and its ratios have a wide margin: one pass
                table = f"bench.sdk.case_{n}_{done}"
                runs[case].append(run_case(case, server, table, options.records, python, pydantic_ok))
                print(f"  pass {done + 1}/{passes}: ran {case.label}", file=sys.stderr)
    results = {case: _median(measured) for case, measured in runs.items()}
    report(results, pydantic_ok)
    if passes > 1:
        spread(runs)


def run_case(
    case: Case, server: Emulator, table: str, records: int, python: Path | None, pydantic_ok: bool
) -> Measurement | None:
    if case.who == "floor":
        return run_floor(case.shape, records)
    if case.who == "ours":
        runner = run_ours_sync if case.driver == "sync" else run_ours_aio
        return runner(server, case, table, records)
    if python is not None and (case.shape != "pydantic" or pydantic_ok):
        return run_official(python, server, case, table, records)
    return None


def _median(measured: list[Measurement | None]) -> Measurement | None:
    """The pass with the median rate (machines this small are noisy: ~10% between passes)."""
    present = sorted((m for m in measured if m is not None), key=lambda m: m.rate)
    return present[len(present) // 2] if present else None


def spread(runs: dict[Case, list[Measurement | None]]) -> None:
    """Each pass's per-record ratio to the floor measured in the same pass."""
    floor = runs.get(Case("floor", "-", "pb2", "record"), [])
    for driver in ("sync", "aio"):
        ours = runs.get(Case("ours", driver, "pb2", "record"), [])
        pairs = [(o, f) for o, f in zip(ours, floor, strict=False) if o is not None and f is not None]
        if pairs:
            walls = ", ".join(f"{o.rate / f.rate:.2f}" for o, f in pairs)
            cpus = ", ".join(f"{f.client_cpu_s / o.client_cpu_s:.2f}" for o, f in pairs)
            print(f"  {driver} per-record vs floor, each pass: wall {walls}; client CPU {cpus}")


def report(results: dict[Case, Measurement | None], pydantic_ok: bool) -> None:
    print(f"cores: {os.cpu_count()} (client, server and anything else on the machine share them)")
    print("records/s: wall clock, first ingest to all acknowledged; CPU: client CPU per record (all threads)")
    header = (
        f"{'case':<40} {'records/s':>10} {'server CPU':>10} {'server us/rec':>13} {'client us/rec':>13}"
        f" {'vs official':>11} {'vs floor':>9} {'CPU vs floor':>12}  note"
    )
    print(header)
    print("-" * len(header))
    floors = {c.shape: m for c, m in results.items() if c.who == "floor" and m is not None}
    for case, measured in results.items():
        if measured is None:
            why = "pydantic missing in the official venv" if case.shape == "pydantic" else "no official SDK"
            print(f"{case.label:<40} {'n/a':>10}  {why}")
            continue
        versus = floor_wall = floor_cpu = ""
        if case.who == "ours":
            official = results.get(Case("official", case.driver, case.shape, case.api))
            if official is not None:
                versus = f"{measured.rate / official.rate:.2f}x"
            floor = floors.get(case.shape)
            if floor is not None:
                floor_wall = f"{measured.rate / floor.rate:.2f}x"
                floor_cpu = f"{floor.client_cpu_s / measured.client_cpu_s:.2f}x"
        note = "server-bound" if case.who != "floor" and measured.server_share >= SERVER_BOUND_SHARE else ""
        server = "-" if case.who == "floor" else f"{measured.server_share:.2f}"
        server_us = "-" if case.who == "floor" else f"{measured.server_cpu_s / measured.records * 1e6:.2f}"
        cpu_us = measured.client_cpu_s / measured.records * 1e6
        print(
            f"{case.label:<40} {measured.rate:>10,.0f} {server:>10} {server_us:>13} {cpu_us:>13.2f}"
            f" {versus:>11} {floor_wall:>9} {floor_cpu:>12}  {note}"
        )
    print()
    targets(results)


def targets(results: dict[Case, Measurement | None]) -> None:
    def get(who: str, driver: str, shape: str, api: str = "record") -> Measurement | None:
        return results.get(Case(who, driver, shape, api))

    floor = get("floor", "-", "pb2")
    served = [m for c, m in results.items() if c.who != "floor" and m is not None and m.server_cpu_s > 0]
    if served and floor:
        per_record = min(m.server_cpu_s / m.records for m in served)
        print(
            f"the server needs >= {per_record * 1e6:.2f} us of CPU per record: one core caps it near "
            f"{1 / per_record:,.0f} records/s, {1 / per_record / floor.rate:.2f}x the pb2 floor; wall-clock "
            "ratios to the floor are bounded by that, so the client CPU ratio is the client's own figure"
        )
    for driver in ("sync", "aio"):
        ours, official = get("ours", driver, "pb2"), get("official", driver, "pb2")
        if ours and official:
            print(
                f"target {driver}: per-record API vs official per-record: {ours.rate / official.rate:.2f}x (>= 1.5)"
            )
        if ours and floor:
            print(
                f"target {driver}: per-record API vs floor (build + serialize pb2): {ours.rate / floor.rate:.2f}x "
                f"wall, {floor.client_cpu_s / ours.client_cpu_s:.2f}x client CPU (>= 0.6)"
            )
        dicts, official_dicts = get("ours", driver, "dict"), get("official", driver, "dict")
        if dicts and official_dicts:
            print(
                f"target {driver}: dict path vs official JSON dict path: "
                f"{dicts.rate / official_dicts.rate:.2f}x (>= 2)"
            )


if __name__ == "__main__":
    main()
