"""`df.writeStream.format("zerobus")`: every row of several micro-batches lands."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from tests.spark.conftest import delta_column, zerobus_options
from zerobus.server import LocalZerobusServer

pytestmark = pytest.mark.spark

FILES, ROWS_PER_FILE = 4, 5_000


def _input_files(directory: Path) -> None:
    """Parquet files of ids, one micro-batch each (`maxFilesPerTrigger=1`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir()
    for index in range(FILES):
        ids = pa.array(range(index * ROWS_PER_FILE, (index + 1) * ROWS_PER_FILE), pa.int64())
        labels = pa.array([f"file-{index}"] * ROWS_PER_FILE)
        pq.write_table(pa.table({"id": ids, "label": labels}), directory / f"part-{index}.parquet")


def test_a_streaming_write_over_several_micro_batches_lands_every_row(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, label STRING")
    _input_files(tmp_path / "in")
    source = (
        spark.readStream.schema("id BIGINT, label STRING")
        .option("maxFilesPerTrigger", 1)
        .parquet(str(tmp_path / "in"))
    )
    query = (
        source.writeStream.format("zerobus")
        .options(**zerobus_options(zerobus_server, table))
        .option("checkpointLocation", str(tmp_path / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    assert query.awaitTermination(180), "the query processed every file"
    assert query.exception() is None
    batches = [p for p in query.recentProgress if p["numInputRows"] > 0]
    assert len(batches) == FILES
    counts = collections.Counter(delta_column(zerobus_server, table, "id"))
    assert counts == collections.Counter(range(FILES * ROWS_PER_FILE))
