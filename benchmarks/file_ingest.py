"""Benchmark of `zerobus-ingest`: rows/s per file format, from the CLI's own summary.

Writes the same rows (the SDK benchmark's 5-column table) as CSV, JSON lines and Parquet into
a temporary directory, starts the emulator in its own process, runs ``zerobus-ingest`` on each
file and reports the rows/s the command measured (stream opened to every row acknowledged) and
the wall time of the whole command (interpreter start, schema fetch and file reading included).

    python benchmarks/file_ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_common import BASE_TS_MICROS, DEVICES, emulator

TABLE = "main.default.file_ingest"
INGEST = Path(sys.executable).with_name("zerobus-ingest")
RATE = re.compile(r"\(([0-9,]+) rows/s\)")


def write_files(directory: Path, rows: int) -> dict[str, Path]:
    """The same `rows` rows as CSV, JSON lines and Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = list(range(rows))
    devices = [DEVICES[i % 100] for i in ids]
    values = [i * 0.5 for i in ids]
    stamps = [BASE_TS_MICROS + i for i in ids]
    oks = [i % 2 == 0 for i in ids]
    files = {
        "csv": directory / "rows.csv",
        "jsonl": directory / "rows.jsonl",
        "parquet": directory / "rows.parquet",
    }
    with files["csv"].open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "device", "value", "ts", "ok"])
        writer.writerows(zip(ids, devices, values, stamps, oks, strict=True))
    with files["jsonl"].open("w") as out:
        for row in zip(ids, devices, values, stamps, oks, strict=True):
            out.write(json.dumps(dict(zip(("id", "device", "value", "ts", "ok"), row, strict=True))) + "\n")
    table = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "device": devices,
            "value": values,
            "ts": pa.array(stamps, pa.timestamp("us", tz="UTC")),
            "ok": oks,
        }
    )
    pq.write_table(table, files["parquet"], row_group_size=128 * 1024)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        files = write_files(Path(scratch), args.rows)
        with emulator([TABLE]) as server:
            env = dict(
                os.environ,
                ZEROBUS_SERVER_ENDPOINT=server.grpc_endpoint,
                DATABRICKS_HOST=server.workspace_url,
                DATABRICKS_CLIENT_ID=server.client_id,
                DATABRICKS_CLIENT_SECRET=server.client_secret,
            )
            print(f"{args.rows:,} rows per file, table {TABLE} (5 columns)")
            for name, path in files.items():
                started = time.perf_counter()
                result = subprocess.run(
                    [str(INGEST), str(path), "--table", TABLE, "--no-progress"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                wall = time.perf_counter() - started
                if result.returncode != 0:
                    raise SystemExit(f"{name}: exit {result.returncode}\n{result.stdout}{result.stderr}")
                match = RATE.search(result.stdout)
                rate = match.group(1) if match else "?"
                print(f"  {name:8} {rate:>10} rows/s (command wall time {wall:.1f} s)")


if __name__ == "__main__":
    main()
