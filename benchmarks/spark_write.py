"""Spark write throughput: rows/s of ``df.write.format("zerobus")`` with 1 and 2 partitions.

Beside it, the plain SDK ingesting the same rows (dicts, batches of 1000, one stream) against
the same local server, which runs in its own process. Spark runs in local mode (``local[2]``)
after a warm-up write, so JVM start and Python worker start are not measured; each Spark figure
is the whole ``save()``: planning, the Unity Catalog schema read, tasks, every acknowledgment.

    .venv/bin/python benchmarks/spark_write.py [--rows N] [--repeat N]

Needs the ``spark`` extra and Java 17.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import BASE_TS_MICROS, Emulator, emulator, record_dict

from zerobus.sdk.sync import StreamConfigurationOptions, TableProperties, ZerobusSdk

TABLES = ["bench.spark.warmup", "bench.spark.sdk", "bench.spark.one", "bench.spark.two"]
BATCH = 1000


def spark_session() -> Any:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    from zerobus.spark import ZerobusDataSource

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(ZerobusDataSource)
    return spark


def spark_rows(spark: Any, rows: int, partitions: int) -> Any:
    """The rows of `record_dict` as a DataFrame (the benchmark table's 5 columns)."""
    return spark.range(0, rows, numPartitions=partitions).selectExpr(
        "id",
        "concat('device-', lpad(cast(id % 100 as string), 3, '0')) as device",
        "cast(id * 0.5 as double) as value",
        f"timestamp_micros({BASE_TS_MICROS} + id) as ts",
        "id % 2 = 0 as ok",
    )


def spark_write(spark: Any, server: Emulator, table: str, rows: int, partitions: int) -> float:
    df = spark_rows(spark, rows, partitions)
    started = time.perf_counter()
    (
        df.write.format("zerobus")
        .option("table", table)
        .option("endpoint", server.grpc_endpoint)
        .option("workspace_url", server.workspace_url)
        .option("client_id", server.client_id)
        .option("client_secret", server.client_secret)
        .mode("append")
        .save()
    )
    return time.perf_counter() - started


def sdk_write(server: Emulator, table: str, rows: int) -> float:
    """One stream, dicts built in the measured window, batches of 1000, until all are acknowledged."""
    options = StreamConfigurationOptions(timestamp_unit="us")
    with ZerobusSdk(server.grpc_endpoint, server.workspace_url) as sdk:
        started = time.perf_counter()
        stream = sdk.create_stream(server.client_id, server.client_secret, TableProperties(table), options)
        for start in range(0, rows, BATCH):
            stream.ingest_records_offset([record_dict(i) for i in range(start, min(start + BATCH, rows))])
        stream.close()
        return time.perf_counter() - started


def median_rate(rows: int, repeat: int, run: Callable[[], float]) -> float:
    return rows / statistics.median(run() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with emulator(TABLES, materialize_delay_s=2.0) as server:
        spark = spark_session()
        try:
            spark_write(spark, server, TABLES[0], 20_000, 2)  # JVM and Python workers warm
            cases = {
                "plain SDK, dicts, batches of 1000, one stream": median_rate(
                    args.rows, args.repeat, lambda: sdk_write(server, TABLES[1], args.rows)
                ),
                "Spark write, 1 partition": median_rate(
                    args.rows, args.repeat, lambda: spark_write(spark, server, TABLES[2], args.rows, 1)
                ),
                "Spark write, 2 partitions": median_rate(
                    args.rows, args.repeat, lambda: spark_write(spark, server, TABLES[3], args.rows, 2)
                ),
            }
        finally:
            spark.stop()
    print(f"{args.rows:,} rows per case, median of {args.repeat}")
    print("| case | rows/s |\n|---|---|")
    for name, rate in cases.items():
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
