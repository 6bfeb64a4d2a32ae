"""The ``zerobus`` Spark data source: DataFrames into Delta tables through Zerobus Ingest.

Needs the ``spark`` extra (pyspark 4.0 or newer)::

    from zerobus.spark import ZerobusDataSource

    spark.dataSource.register(ZerobusDataSource)
    (df.write.format("zerobus").option("table", "main.default.events")
        .option("endpoint", ...).option("workspace_url", ...)
        .option("client_id", ...).option("client_secret", ...)
        .mode("append").save())

Options not given come from ``ZEROBUS_SERVER_ENDPOINT``, ``DATABRICKS_HOST``,
``DATABRICKS_CLIENT_ID`` and ``DATABRICKS_CLIENT_SECRET``, read where Spark plans the write: the
environment the driver started with (set them before the SparkSession starts).
``df.writeStream.format("zerobus")`` takes the same options.

Delivery is at-least-once. Each task writes its partition through its own stream and succeeds
only once every row it sent is acknowledged; a task that fails reports why and how many rows
were left unacknowledged, and Spark's retry writes the whole partition again, so rows the failed
attempt had already landed appear twice. A failed job leaves the rows of its finished tasks in
place (Zerobus has no transactions); a restarted streaming query may write a micro-batch twice.
To read without duplicates, give every row a unique id that a retry recomputes identically (a
business key, or a hash such as ``sha2(to_json(struct(*)), 256)``; never ``uuid()`` or
``rand()``, which change on retry) and deduplicate on it downstream: ``SELECT DISTINCT *``,
``dropDuplicates(["id"])``, a ``row_number()`` window over ``id``, or
``MERGE INTO clean t USING raw s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

try:
    import pyspark  # noqa: F401
except ImportError as missing:
    raise ImportError(
        "zerobus.spark needs pyspark 4.0 or newer: pip install 'zerobus-toolkit[spark]'"
    ) from missing

from zerobus.spark.partition import PartitionWriteError
from zerobus.spark.source import ZerobusDataSource

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["PartitionWriteError", "ZerobusDataSource", "register"]


def register(spark: SparkSession) -> None:
    """Register the ``zerobus`` format with a SparkSession (``spark.dataSource.register``)."""
    spark.dataSource.register(ZerobusDataSource)
