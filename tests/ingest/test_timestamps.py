"""Integer timestamps: --timestamp-unit declares their unit; without it, another unit's size is refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.ingest.conftest import Ingest

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
SECONDS = int(WHEN.timestamp())
IN_UNIT = {"s": SECONDS, "ms": SECONDS * 1_000, "us": SECONDS * 1_000_000, "ns": SECONDS * 1_000_000_000}


@pytest.mark.parametrize("unit", sorted(IN_UNIT))
def test_each_unit_lands_the_same_instant_from_each_format(
    ingest: Ingest, zerobus_table, tmp_path: Path, unit: str
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, at TIMESTAMP, wall TIMESTAMP_NTZ")
    value = IN_UNIT[unit]
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text(f"id,at,wall\n1,{value},{value}\n")
    jsonl_file = tmp_path / "rows.jsonl"
    jsonl_file.write_text(json.dumps({"id": 2, "at": value, "wall": value}) + "\n")
    parquet_file = tmp_path / "rows.parquet"
    pq.write_table(
        pa.table({"id": pa.array([3], pa.int64()), "at": pa.array([value], pa.int64()), "wall": [value]}),
        parquet_file,
    )
    result = ingest(
        str(csv_file), str(jsonl_file), str(parquet_file), "--table", table, "--timestamp-unit", unit
    )
    assert result.returncode == 0, result.stderr
    rows = ingest.server.rows(table)
    assert sorted(row["id"] for row in rows) == [1, 2, 3]
    for row in rows:
        assert row["at"] == WHEN
        assert row["wall"] == WHEN.replace(tzinfo=None)


def test_without_a_unit_milliseconds_are_refused_naming_the_flag(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, at TIMESTAMP")
    source = tmp_path / "rows.csv"
    source.write_text(f"id,at\n1,{IN_UNIT['ms']}\n2,{IN_UNIT['us']}\n")
    letters = tmp_path / "refused.jsonl"
    result = ingest(str(source), "--table", table, "--dead-letter", str(letters))
    assert result.returncode == 3
    (entry,) = [json.loads(line) for line in letters.read_text().splitlines()]
    assert entry["line"] == 2 and entry["field"] == "at" and "milliseconds" in entry["reason"]
    assert [row["at"] for row in ingest.server.rows(table)] == [WHEN]


def test_parquet_timestamps_keep_their_instant_whatever_the_declared_unit(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    """Arrow timestamps carry their own unit: a 1969 instant (small in microseconds) lands too."""
    table = zerobus_table("id BIGINT NOT NULL, at TIMESTAMP")
    early = dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    source = tmp_path / "rows.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2], pa.int64()),
                "at": pa.array([WHEN, early], pa.timestamp("ms", tz="Europe/Amsterdam")),
            }
        ),
        source,
    )
    for unit in ([], ["--timestamp-unit", "s"]):
        assert ingest(str(source), "--table", table, *unit).returncode == 0
    assert sorted(row["at"] for row in ingest.server.rows(table)) == [early, early, WHEN, WHEN]
