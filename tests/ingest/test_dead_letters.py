"""Refused rows go to the dead-letter file with where they were and why; all other rows land."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.ingest.conftest import Ingest

TABLE_DDL = "id BIGINT NOT NULL, temp INT, measured_at TIMESTAMP"


def dead_letters(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def landed_ids(ingest: Ingest, table: str) -> set[int]:
    return {row["id"] for row in ingest.server.rows(table)}


def test_csv_rows_refused_by_the_reader_and_by_the_sdk(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table(TABLE_DDL)
    source = tmp_path / "rows.csv"
    # Line 4 spans two lines (a quoted newline); the rows after it keep their own line numbers.
    source.write_text(
        "id,temp,measured_at\n"
        "1,20,2026-01-02T03:04:05Z\n"
        "2,warm,2026-01-02T03:04:05Z\n"
        '3,21,"2026-01-02\nT03:04:05Z"\n'
        "4,99999999999,\n"
        "5,22\n"
        "6,23,2026-01-02T03:04:05Z\n"
    )
    letters = tmp_path / "refused.jsonl"
    result = ingest(str(source), "--table", table, "--dead-letter", str(letters))
    assert result.returncode == 3, result.stderr
    assert "2 rows landed" in result.stdout and "4 rows refused" in result.stdout
    assert landed_ids(ingest, table) == {1, 6}
    by_line = {entry["line"]: entry for entry in dead_letters(letters)}
    assert sorted(by_line) == [3, 4, 6, 7]
    assert by_line[3]["field"] == "temp" and "not an integer for INT" in by_line[3]["reason"]
    assert by_line[3]["record"] == {"id": "2", "temp": "warm", "measured_at": "2026-01-02T03:04:05Z"}
    assert by_line[4]["field"] == "measured_at" and "ISO-8601" in by_line[4]["reason"]
    assert by_line[6]["field"] == "temp" and "out of range for INT" in by_line[6]["reason"]
    assert "has 2 fields; the header has 3" in by_line[7]["reason"]
    assert all(entry["file"] == str(source) for entry in by_line.values())


def test_json_lines_refused_with_their_line_and_text(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table(TABLE_DDL)
    source = tmp_path / "rows.jsonl"
    lines = [
        '{"id": 1}',
        "[1, 2]",
        '{"id": 2, "unknown": true}',
        '{"id": "three"}',
        "{broken",
        '{"id": 4, "temp": NaN}',
        '{"id": 5, "measured_at": 1767323045}',
        '{"id": 6, "temp": 7}',
    ]
    source.write_text("\n".join(lines) + "\n")
    letters = tmp_path / "refused.jsonl"
    result = ingest(str(source), "--table", table, "--dead-letter", str(letters))
    assert result.returncode == 3, result.stderr
    assert landed_ids(ingest, table) == {1, 6}
    by_line = {entry["line"]: entry for entry in dead_letters(letters)}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7]
    for number, entry in by_line.items():
        assert entry["record"] == lines[number - 1]
    assert "one JSON object" in by_line[2]["reason"]
    assert by_line[3]["field"] == "unknown"
    assert by_line[4]["field"] == "id"
    assert "not valid JSON" in by_line[5]["reason"] and "not valid JSON" in by_line[6]["reason"]
    assert by_line[7]["field"] == "measured_at" and "seconds" in by_line[7]["reason"]


def test_parquet_rows_refused_with_their_row_number(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table(TABLE_DDL)
    source = tmp_path / "rows.parquet"
    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    nanos = int(when.timestamp()) * 10**9
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2, 3, 4], pa.int64()),
                "temp": pa.array([1, 2**40, 3, 4], pa.int64()),
                # Row 3 has nanoseconds below a microsecond: refused, not rounded.
                "measured_at": pa.array(
                    [nanos, nanos, nanos + 1, nanos + 1000], pa.timestamp("ns", tz="UTC")
                ),
            }
        ),
        source,
    )
    letters = tmp_path / "refused.jsonl"
    result = ingest(str(source), "--table", table, "--dead-letter", str(letters))
    assert result.returncode == 3, result.stderr
    assert landed_ids(ingest, table) == {1, 4}
    by_row = {entry["row"]: entry for entry in dead_letters(letters)}
    assert sorted(by_row) == [2, 3]
    assert by_row[2]["field"] == "temp" and by_row[2]["record"]["id"] == 2
    assert by_row[2]["record"]["measured_at"] == "2026-01-02T00:00:00+00:00"  # as the file held it
    assert by_row[3]["field"] == "measured_at" and "below a microsecond" in by_row[3]["reason"]
    assert by_row[3]["record"]["measured_at"] == nanos + 1
    row4 = next(row for row in ingest.server.rows(table) if row["id"] == 4)
    assert row4["measured_at"] == when + dt.timedelta(microseconds=1)


def test_a_refused_row_stops_the_run_without_a_dead_letter_file(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table(TABLE_DDL)
    source = tmp_path / "rows.csv"
    source.write_text("id,temp\n1,1\n2,2\n3,cold\n4,4\n")
    result = ingest(str(source), "--table", table)
    assert result.returncode == 4
    assert "line 4" in result.stderr and "temp" in result.stderr and "--dead-letter" in result.stderr
    assert "Traceback" not in result.stderr
    assert "2 rows landed" in result.stdout
    assert landed_ids(ingest, table) == {1, 2}


def test_dead_letters_are_appended_not_overwritten(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table(TABLE_DDL)
    letters = tmp_path / "refused.jsonl"
    letters.write_text('{"earlier": "run"}\n')
    source = tmp_path / "rows.csv"
    source.write_text("id,temp\nx,1\n")
    assert ingest(str(source), "--table", table, "--dead-letter", str(letters)).returncode == 3
    entries = dead_letters(letters)
    assert entries[0] == {"earlier": "run"} and entries[1]["line"] == 2
