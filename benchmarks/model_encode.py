"""Model -> record bytes against ``model_dump()``: per-record microseconds, no server involved.

For the quickstart's air-quality model (9 columns: a nested struct, a map, a decimal, a date
and a timestamp) and the SDK benchmarks' 5-column event model, each pass times, over the same
prepared instances and interleaved (dump, compiled, to_proto_bytes, reference, dump, ...):

- ``model_dump()``: what pydantic-core does natively, the yardstick (issue 13: model -> proto
  bytes should cost no more than about 1.2x this);
- the compiled encoder (``Model.zerobus_proto_encoder()``, what PROTO streams call per record);
- ``to_proto_bytes()`` (the same encoder behind the method's class look-up);
- the reference path (``model_dump`` + section 7 converters + message + serialize).

    .venv/bin/python benchmarks/model_encode.py [--records N] [--repeat N]

Each figure is the median over the passes; the ratio column is compiled / model_dump.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import COLUMNS, DEVICES, record_datetime

from zerobus.codegen import ZerobusModel, model_class, schema_from_ddl
from zerobus.codegen.model_base import _reference_proto_bytes
from zerobus.quickstart import AIR_QUALITY_DDL, make_records


def quickstart_rows(count: int) -> list[ZerobusModel]:
    model = model_class(schema_from_ddl(AIR_QUALITY_DDL, "main.default.air_quality"))
    return list(make_records(model, count, seed=7))


def event_rows(count: int) -> list[ZerobusModel]:
    model: Any = model_class(schema_from_ddl(COLUMNS, "bench.sdk.events"))
    return [
        model(id=i, device=DEVICES[i % 100], value=i * 0.5, ts=record_datetime(i), ok=i % 2 == 0)
        for i in range(count)
    ]


def per_record_us(action: Callable[[Any], Any], rows: Sequence[Any]) -> float:
    started = time.perf_counter()
    for row in rows:
        action(row)
    return (time.perf_counter() - started) / len(rows) * 1e6


def measure(rows: Sequence[ZerobusModel], repeat: int) -> dict[str, float]:
    encode = type(rows[0]).zerobus_proto_encoder()
    actions: dict[str, Callable[[Any], Any]] = {
        "model_dump()": lambda row: row.model_dump(),
        "compiled encoder": encode,
        "to_proto_bytes()": lambda row: row.to_proto_bytes(),
        "reference path": _reference_proto_bytes,
    }
    for action in actions.values():  # warm up: compile, fill caches
        per_record_us(action, rows[:100])
    passes: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            passes[name].append(per_record_us(action, rows))
    return {name: statistics.median(values) for name, values in passes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=20_000, help="instances per model (default 20000)")
    parser.add_argument(
        "--repeat", type=int, default=7, help="interleaved passes; medians reported (default 7)"
    )
    options = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {options.records:,} records x {options.repeat} passes"
    )
    for label, build in (
        ("quickstart air_quality (9 columns)", quickstart_rows),
        ("benchmark events (5 columns)", event_rows),
    ):
        rows = build(options.records)
        figures = measure(rows, options.repeat)
        dump = figures["model_dump()"]
        print(f"\n{label}")
        for name, value in figures.items():
            print(
                f"  {name:<18} {value:7.3f} us/record  {value / dump:5.2f}x model_dump  {1e6 / value:>10,.0f} records/s"
            )


if __name__ == "__main__":
    main()
