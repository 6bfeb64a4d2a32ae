"""One SparkSession in local mode for the Spark tests, its workers on loopback, tasks retried.

pyspark is imported only inside the fixtures: without it, the test modules skip themselves
(``pytest.importorskip``) and this file costs nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from zerobus.server import LocalZerobusServer

# local[2,3]: two worker threads, and a task may fail 3 times before the job does (local mode
# does not retry tasks otherwise).
SPARK_MASTER = "local[2,3]"


def spark_session(master: str = SPARK_MASTER) -> Any:
    """A SparkSession whose driver listens on loopback and whose Python workers run this interpreter."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    from zerobus.spark import ZerobusDataSource

    spark = (
        SparkSession.builder.master(master)
        .appName("zerobus-spark-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        # Timestamps are written and read back as instants: a non-UTC session zone must not shift them.
        .config("spark.sql.session.timeZone", "America/Los_Angeles")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(ZerobusDataSource)
    return spark


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    session = spark_session()
    yield session
    session.stop()


def zerobus_options(server: LocalZerobusServer, table: str) -> dict[str, str]:
    """The data source options that point a write at `server`."""
    return {
        "table": table,
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
    }


def delta_column(server: LocalZerobusServer, table: str, column: str) -> list[Any]:
    """One column of the table's Delta data, everything acknowledged materialised first."""
    from zerobus.server.storage.delta_read import open_dataset

    server.flush_materialization()
    return list(
        open_dataset(Path(server.table_path(table))).to_table(columns=[column]).column(column).to_pylist()
    )
