"""CSV, JSON lines and Parquet files land in the table with every value as the file wrote it."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.ingest.conftest import Ingest, rows_by
from zerobus.server import LocalZerobusServer

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
WHEN_MICROS = 1767323045123456

EXPECTED = {
    "full": {
        "temp": -7,
        "humidity": 2**40,
        "pm25": 12.5,
        "measured_at": WHEN,
        "reading_date": dt.date(2026, 1, 2),
        "location": {"lat": 52.37, "lon": 4.89},
        "tags": {"site": "amsterdam"},
        "calibration": decimal.Decimal("0.125"),
        "ok": True,
    },
    "sparse": {
        "temp": None,
        "humidity": None,
        "pm25": None,
        "measured_at": WHEN,
        "reading_date": None,
        "location": None,
        "calibration": None,
        "ok": False,
    },
}


def check_rows(server: LocalZerobusServer, table: str) -> None:
    rows = rows_by(server, table, "device_name")
    assert set(rows) == set(EXPECTED)
    for name, expected in EXPECTED.items():
        for column, value in expected.items():
            assert rows[name][column] == value, (name, column)


def test_csv_lands_every_value(ingest: Ingest, air_quality: str, tmp_path: Path) -> None:
    source = tmp_path / "readings.csv"
    source.write_text(
        "device_name,temp,humidity,pm25,measured_at,reading_date,location,tags,calibration,ok\n"
        'full,-7,1099511627776,12.5,2026-01-02T03:04:05.123456Z,2026-01-02,"{""lat"": 52.37, ""lon"": 4.89}",'
        '"{""site"": ""amsterdam""}",0.125,true\n'
        f"sparse,,,,{WHEN_MICROS},,,,,FALSE\n"
    )
    result = ingest(str(source), "--table", air_quality)
    assert result.returncode == 0, result.stderr
    assert "2 rows landed" in result.stdout
    check_rows(ingest.server, air_quality)


def test_json_lines_land_every_value(ingest: Ingest, air_quality: str, tmp_path: Path) -> None:
    source = tmp_path / "readings.jsonl"
    full = {
        "device_name": "full",
        "temp": -7,
        "humidity": 2**40,
        "pm25": 12.5,
        "measured_at": "2026-01-02T03:04:05.123456+00:00",
        "reading_date": "2026-01-02",
        "location": {"lat": 52.37, "lon": 4.89},
        "tags": {"site": "amsterdam"},
        "calibration": 0.125,  # a JSON number, taken as the exact decimal it spells
        "ok": True,
    }
    sparse = {"device_name": "sparse", "measured_at": WHEN_MICROS, "ok": False, "temp": None}
    source.write_text(json.dumps(full) + "\n\n" + json.dumps(sparse) + "\n")
    result = ingest(str(source), "--table", air_quality)
    assert result.returncode == 0, result.stderr
    check_rows(ingest.server, air_quality)


def test_parquet_lands_every_value(ingest: Ingest, air_quality: str, tmp_path: Path) -> None:
    source = tmp_path / "readings.parquet"
    table = pa.table(
        {
            "device_name": ["full", "sparse"],
            "temp": pa.array([-7, None], pa.int32()),
            "humidity": pa.array([2**40, None], pa.int64()),
            "pm25": [12.5, None],
            "measured_at": pa.array([WHEN, WHEN], pa.timestamp("us", tz="UTC")),
            "reading_date": pa.array([dt.date(2026, 1, 2), None], pa.date32()),
            "location": pa.array(
                [{"lat": 52.37, "lon": 4.89}, None], pa.struct([("lat", pa.float64()), ("lon", pa.float64())])
            ),
            "tags": pa.array([[("site", "amsterdam")], None], pa.map_(pa.string(), pa.string())),
            "calibration": pa.array([decimal.Decimal("0.125"), None], pa.decimal128(6, 3)),
            "ok": [True, False],
        }
    )
    pq.write_table(table, source)
    result = ingest(str(source), "--table", air_quality)
    assert result.returncode == 0, result.stderr
    check_rows(ingest.server, air_quality)


def test_formats_are_detected_by_content_and_can_be_forced(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    as_parquet = tmp_path / "export.data"
    pq.write_table(pa.table({"id": pa.array([1], pa.int64()), "name": ["parquet"]}), as_parquet)
    as_json = tmp_path / "events.log"
    as_json.write_text('{"id": 2, "name": "json"}\n')
    as_csv = tmp_path / "dump.txt"
    as_csv.write_text("id,name\n3,csv\n")
    forced = tmp_path / "looks.json"
    forced.write_text("id;name\n4;forced\n")
    assert ingest(str(as_parquet), str(as_json), str(as_csv), "--table", table).returncode == 0
    result = ingest(str(forced), "--table", table, "--format", "csv", "--delimiter", ";")
    assert result.returncode == 0, result.stderr
    names = {row["id"]: row["name"] for row in ingest.server.rows(table)}
    assert names == {1: "parquet", 2: "json", 3: "csv", 4: "forced"}


def test_standard_input_is_read_with_a_dash(ingest: Ingest, zerobus_table) -> None:
    import subprocess

    from tests.ingest.conftest import INGEST, server_env

    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    result = subprocess.run(
        [INGEST, "-", "--table", table],
        input='{"id": 1, "name": "stdin"}\n{"id": 2}\n',
        env=server_env(ingest.server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert {row["id"] for row in ingest.server.rows(table)} == {1, 2}


def test_progress_bar_shows_rows_rate_and_eta_only_when_asked(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    source = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"id": pa.array(range(5000), pa.int64())}), source)
    shown = ingest(str(source), "--table", table, "--progress", "--batch-rows", "1000")
    assert shown.returncode == 0, shown.stderr
    assert "rows.parquet: 100%" in shown.stderr and "5.00k/5.00k" in shown.stderr
    assert "rows/s]" in shown.stderr and "<00:00" in shown.stderr  # rate and ETA
    quiet = ingest(str(source), "--table", table)  # standard error is not a terminal here
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "5,000 rows landed" in quiet.stdout
