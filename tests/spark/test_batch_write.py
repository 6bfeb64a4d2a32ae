"""`df.write.format("zerobus")` in Spark local mode against the local server: rows land, all of them."""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from tests.spark.conftest import delta_column, zerobus_options
from zerobus.server import LocalZerobusServer

pytestmark = pytest.mark.spark


def _write(df: Any, options: dict[str, str], mode: str = "append") -> None:
    df.write.format("zerobus").options(**options).mode(mode).save()


def test_a_million_rows_land_every_row(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, score INT, label STRING")
    df = spark.range(0, 1_000_000, numPartitions=2).selectExpr(
        "id", "cast(id % 1000 as int) as score", "concat('r', cast(id % 7 as string)) as label"
    )
    _write(df, zerobus_options(zerobus_server, table))
    ids = delta_column(zerobus_server, table, "id")
    assert len(ids) == 1_000_000
    assert len(set(ids)) == 1_000_000
    assert min(ids) == 0
    assert max(ids) == 999_999


def test_values_of_every_kind_round_trip_unshifted(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table(
        "id BIGINT NOT NULL, at TIMESTAMP, wall TIMESTAMP_NTZ, day DATE, price DECIMAL(10,3), "
        "raw BINARY, ok BOOLEAN, ratio DOUBLE, small SMALLINT, tags ARRAY<STRING>, "
        "attrs MAP<STRING, INT>, place STRUCT<lat: DOUBLE, seen: TIMESTAMP>"
    )
    at = dt.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=dt.timezone.utc)
    full = (
        1,
        at,
        dt.datetime(2026, 3, 29, 1, 30, 15),
        dt.date(1969, 12, 31),
        decimal.Decimal("1234.567"),
        b"\x00\xff",
        True,
        0.25,
        -7,
        ["a", "b"],
        {"k": 1},
        (52.5, at),
    )
    nulls = (2, *([None] * (len(full) - 1)))
    schema = (
        "id BIGINT, at TIMESTAMP, wall TIMESTAMP_NTZ, day DATE, price DECIMAL(10,3), raw BINARY, "
        "ok BOOLEAN, ratio DOUBLE, small SMALLINT, tags ARRAY<STRING>, attrs MAP<STRING, INT>, "
        "place STRUCT<lat: DOUBLE, seen: TIMESTAMP>"
    )
    df = spark.createDataFrame([full, nulls], schema)
    _write(df, zerobus_options(zerobus_server, table))
    landed = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    first, second = landed
    assert first["at"] == at
    assert first["wall"] == dt.datetime(2026, 3, 29, 1, 30, 15)
    assert first["day"] == dt.date(1969, 12, 31)
    assert first["price"] == decimal.Decimal("1234.567")
    assert first["raw"] == b"\x00\xff"
    assert (first["ok"], first["ratio"], first["small"]) == (True, 0.25, -7)
    assert first["tags"] == ["a", "b"]
    assert first["attrs"] == {"k": 1}
    assert first["place"] == {"lat": 52.5, "seen": at}
    assert second["id"] == 2
    # Protobuf has no null for a repeated field: the service stores a null ARRAY / MAP as empty.
    assert (second["tags"], second["attrs"]) == ([], {})
    assert all(value is None for key, value in second.items() if key not in ("id", "tags", "attrs"))


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        # Arrow batches (`ingest_arrow`): the Arrow schema is checked before any row is sent.
        ("id, cast(id as string) as nmae", ["column 'nmae'", "the table has no such column"]),
        ("cast(id as string) as id", ["column 'id'", "Arrow type string does not fit bigint"]),
        ("cast(id as string) as name", ["column 'id'", "NOT NULL"]),
        ("id, id as name", ["column 'name'", "Arrow type int64 does not fit string"]),
    ],
    ids=["unknown-column", "wrong-type", "missing-not-null", "int-into-string"],
)
def test_a_wrong_schema_fails_the_job_with_the_sdks_precise_error(
    spark: Any,
    zerobus_server: LocalZerobusServer,
    zerobus_table: Any,
    select: str,
    expected: list[str],
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    df = spark.range(0, 10, numPartitions=1).selectExpr(*select.split(", "))
    with pytest.raises(Exception) as failure:
        _write(df, zerobus_options(zerobus_server, table))
    message = str(failure.value)
    for fragment in expected:
        assert fragment in message
    assert "0 of them left unacknowledged" in message
    assert zerobus_server.rows(table) == []


def test_a_task_failing_mid_partition_is_retried_and_every_row_lands(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any, tmp_path: Path
) -> None:
    from pyspark import TaskContext
    from pyspark.sql.functions import col, udf

    rows, fail_at = 60_000, 45_000  # partition 1 holds ids 30,000..59,999
    failed_marker = tmp_path / "failed-once"

    def fail_first_attempt_once(value: int) -> int:
        context = TaskContext.get()
        if value == fail_at and context is not None and context.attemptNumber() == 0:
            failed_marker.write_text(str(context.partitionId()))
            raise RuntimeError(f"injected failure at id {value}")
        return value

    checked = udf(fail_first_attempt_once, "bigint", useArrow=False)
    table = zerobus_table("id BIGINT NOT NULL")
    df = spark.range(0, rows, numPartitions=2).select(checked(col("id")).alias("id"))
    _write(df, zerobus_options(zerobus_server, table))

    assert failed_marker.read_text() == "1", "the injected failure happened, in partition 1"
    counts = collections.Counter(delta_column(zerobus_server, table, "id"))
    assert set(counts) == set(range(rows)), "no row is missing"
    duplicates = {value for value, count in counts.items() if count > 1}
    assert max(counts.values()) <= 2
    assert all(30_000 <= value < fail_at for value in duplicates), "only the failed attempt's rows repeat"
    assert sum(counts.values()) == rows + len(duplicates)


def test_overwrite_is_refused(spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    with pytest.raises(Exception, match=r"only mode\(\"append\"\)"):
        _write(spark.range(3), zerobus_options(zerobus_server, table), mode="overwrite")
    assert zerobus_server.rows(table) == []


def test_a_missing_option_fails_before_any_task_naming_the_option_and_variable(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    if "DATABRICKS_CLIENT_SECRET" in os.environ:
        pytest.skip("DATABRICKS_CLIENT_SECRET is set: it would supply the missing option")
    table = zerobus_table("id BIGINT NOT NULL")
    options = zerobus_options(zerobus_server, table)
    del options["client_secret"]
    with pytest.raises(Exception, match=r'option "client_secret" is required.*DATABRICKS_CLIENT_SECRET'):
        _write(spark.range(3), options)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_secret": "wrong"}, "invalid client_id or secret"),
        ({"table": "main.default.no_such_table"}, "main.default.no_such_table' does not exist"),
    ],
    ids=["bad-secret", "missing-table"],
)
def test_a_job_that_cannot_reach_the_table_fails_before_any_task(
    spark: Any, zerobus_server: LocalZerobusServer, zerobus_table: Any, change: dict[str, str], message: str
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    with pytest.raises(Exception, match=message):
        _write(spark.range(3), zerobus_options(zerobus_server, table) | change)
    assert zerobus_server.rows(table) == []
