"""A million-row Parquet file lands whole; the command's rows/s is printed (reported, not asserted)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.ingest.conftest import Ingest
from zerobus.server.storage.delta_read import open_dataset

ROWS = 1_000_000
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_million_row_parquet_file(
    ingest: Ingest, zerobus_table, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = zerobus_table(
        "id BIGINT NOT NULL, device STRING, value DOUBLE, measured_at TIMESTAMP, ok BOOLEAN"
    )
    source = tmp_path / "million.parquet"
    ids = pa.array(range(ROWS), pa.int64())
    start_us = int(START.timestamp()) * 1_000_000
    pq.write_table(
        pa.table(
            {
                "id": ids,
                "device": pc.binary_join_element_wise(
                    "device-", pc.cast(pc.bit_wise_and(ids, 63), pa.string()), ""
                ),
                "value": pc.multiply(pc.cast(ids, pa.float64()), 0.5),
                "measured_at": pc.cast(pc.add(ids, start_us), pa.timestamp("us", tz="UTC")),
                "ok": pc.equal(pc.bit_wise_and(ids, 1), 0),
            }
        ),
        source,
        row_group_size=128 * 1024,
    )
    result = ingest(str(source), "--table", table)
    assert result.returncode == 0, result.stderr
    summary = re.search(r"([0-9,]+) rows landed in \S+ in ([0-9.]+) s \(([0-9,]+) rows/s\)", result.stdout)
    assert summary is not None, result.stdout
    assert summary.group(1) == f"{ROWS:,}"
    with capsys.disabled():
        print(
            f"\nzerobus-ingest, 1,000,000-row Parquet file: {summary.group(3)} rows/s ({summary.group(2)} s)"
        )
    ingest.server.flush_materialization(timeout_s=300)
    landed = open_dataset(ingest.server.table_path(table)).to_table(columns=["id", "measured_at"])
    assert landed.num_rows == ROWS
    assert pc.count_distinct(landed["id"]).as_py() == ROWS
    assert pc.min_max(landed["id"]).as_py() == {"min": 0, "max": ROWS - 1}
    assert pc.max(landed["measured_at"]).as_py() == START + dt.timedelta(microseconds=ROWS - 1)
