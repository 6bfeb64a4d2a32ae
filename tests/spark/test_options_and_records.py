"""The data source's options (with the environment's fallbacks) and its conversions of Spark data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

pytest.importorskip("pyspark")

from tests.spark.conftest import zerobus_options
from zerobus.codegen import load_schema
from zerobus.errors import ConfigurationError
from zerobus.server import LocalZerobusServer
from zerobus.spark.partition import PartitionWriteError
from zerobus.spark.records import arrow_batch_records, row_converter
from zerobus.spark.settings import resolve_settings
from zerobus.spark.writers import ZerobusBatchWriter

pytestmark = pytest.mark.spark

ENVIRONMENT = {
    "ZEROBUS_SERVER_ENDPOINT": "http://127.0.0.1:1",
    "DATABRICKS_HOST": "http://127.0.0.1:2",
    "DATABRICKS_CLIENT_ID": "env-id",
    "DATABRICKS_CLIENT_SECRET": "env-secret",
}


def test_the_environment_fills_in_options_not_given() -> None:
    settings = resolve_settings({"table": "main.default.t", "client_id": "given"}, ENVIRONMENT)
    assert settings.endpoint == "http://127.0.0.1:1"
    assert settings.workspace_url == "http://127.0.0.1:2"
    assert settings.client_id == "given"
    assert settings.client_secret == "env-secret"
    assert "env-secret" not in repr(settings)


def test_options_are_case_insensitive_and_stream_options_are_parsed() -> None:
    settings = resolve_settings(
        {"TABLE": "main.default.t", "Max_Inflight_Records": "500", "recovery": "false"}, ENVIRONMENT
    )
    assert settings.stream_options.max_inflight_records == 500
    assert settings.stream_options.recovery is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, 'option "table"'),
        ({"table": "no_dots"}, "no_dots"),
        ({"table": "main.default.t", "tabel": "x"}, r"unknown option\(s\) \['tabel'\]"),
        (
            {"table": "main.default.t", "flush_timeout_ms": "soon"},
            'option "flush_timeout_ms" must be an integer',
        ),
        ({"table": "main.default.t", "flush_timeout_ms": "-1"}, "flush_timeout_ms must be >= 1"),
        ({"table": "main.default.t", "recovery": "yes"}, 'option "recovery" must be true or false'),
        ({"table": "main.default.t", "timestamp_unit": "ms"}, "unknown option"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        resolve_settings(options, ENVIRONMENT)


@pytest.mark.parametrize("missing", sorted(ENVIRONMENT))
def test_a_setting_neither_given_nor_in_the_environment_is_named(missing: str) -> None:
    environment = {name: value for name, value in ENVIRONMENT.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        resolve_settings({"table": "main.default.t"}, environment)


def test_arrow_timestamps_and_dates_become_wire_integers_only_for_such_columns() -> None:
    import pyarrow as pa

    schema = load_schema("main.default.t", ddl="at TIMESTAMP, day DATE, text STRING")
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)
    batch = pa.record_batch(
        {
            "at": pa.array([moment, None], pa.timestamp("us", "America/Los_Angeles")),
            "day": pa.array([dt.date(1970, 1, 3), None], pa.date32()),
            "text": pa.array([moment, None], pa.timestamp("us", "UTC")),
        }
    )
    first, second = arrow_batch_records(batch, schema)
    assert first["at"] == int(moment.timestamp()) * 1_000_000 + 6
    assert first["day"] == 2
    assert first["text"] == moment, "a timestamp bound for a STRING column stays as written"
    assert second == {"at": None, "day": None, "text": None}


def test_rows_become_dicts_with_nested_rows_and_local_timestamps_made_aware() -> None:
    from pyspark.sql import Row
    from pyspark.sql import types as t

    spark_schema = t.StructType(
        [
            t.StructField("at", t.TimestampType()),
            t.StructField("place", t.StructType([t.StructField("seen", t.TimestampType())])),
            t.StructField("visits", t.ArrayType(t.StructType([t.StructField("n", t.IntegerType())]))),
            t.StructField("attrs", t.MapType(t.StringType(), t.TimestampType())),
        ]
    )
    local = dt.datetime(2026, 6, 1, 12, 0, 0)  # how Spark gives TIMESTAMP values to Python: local, naive
    instant = local.astimezone(dt.timezone.utc)
    row = Row(at=local, place=Row(seen=local), visits=[Row(n=1), None], attrs={"k": local})
    assert row_converter(spark_schema)(row) == {
        "at": instant,
        "place": {"seen": instant},
        "visits": [{"n": 1}, None],
        "attrs": {"k": instant},
    }


def test_the_row_writer_lands_rows_and_reports_what_it_wrote(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    """The writer Spark uses when the installed pyspark has no Arrow writer, driven directly."""
    from pyspark.sql import Row
    from pyspark.sql import types as t

    table = zerobus_table("id BIGINT NOT NULL, at TIMESTAMP")
    settings = resolve_settings(zerobus_options(zerobus_server, table) | {"max_inflight_records": "300"}, {})
    spark_schema = t.StructType([t.StructField("id", t.LongType()), t.StructField("at", t.TimestampType())])
    writer = ZerobusBatchWriter(settings, zerobus_server.table_schema(table), spark_schema)
    writer.arrow = False
    local = dt.datetime.fromtimestamp(1_700_000_000)
    message = writer.write(iter([Row(id=i, at=local) for i in range(1000)]))
    assert message.rows == 1000
    rows = zerobus_server.rows(table)
    assert sorted(row["id"] for row in rows) == list(range(1000))
    assert {row["at"] for row in rows} == {dt.datetime.fromtimestamp(1_700_000_000, dt.timezone.utc)}


def test_a_failing_partition_says_why_and_how_many_rows_are_unacknowledged(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    from pyspark.sql import Row
    from pyspark.sql import types as t

    table = zerobus_table("id BIGINT NOT NULL")
    settings = resolve_settings(zerobus_options(zerobus_server, table) | {"flush_timeout_ms": "1000"}, {})
    spark_schema = t.StructType([t.StructField("id", t.LongType())])
    writer = ZerobusBatchWriter(settings, zerobus_server.table_schema(table), spark_schema)
    writer.arrow = False

    def rows() -> Any:
        yield from (Row(id=i) for i in range(2500))
        zerobus_server.faults.withhold_acks()
        yield from (Row(id=i) for i in range(2500, 3000))
        raise RuntimeError("upstream failed")

    with pytest.raises(PartitionWriteError) as failure:
        writer.write(rows())
    error = failure.value
    assert "RuntimeError: upstream failed" in str(error)
    assert error.rows_sent == 3000
    assert 1000 <= error.unacknowledged <= 3000, "the last chunk was sent after acks were withheld"
    assert f"{error.unacknowledged} of them left unacknowledged" in str(error)


def test_duplicate_column_names_are_refused_not_merged() -> None:
    import pyarrow as pa

    batch = pa.RecordBatch.from_arrays([pa.array([1]), pa.array([2]), pa.array([3])], ["id", "x", "id"])
    with pytest.raises(ConfigurationError, match=r"duplicate column names \['id'\]"):
        arrow_batch_records(batch, None)


def test_column_names_are_record_keys_whatever_they_contain() -> None:
    import pyarrow as pa

    names = ["it's", 'a "b"', "c}: 1, {", "\\n"]
    batch = pa.RecordBatch.from_arrays([pa.array([i]) for i in range(len(names))], names)
    assert arrow_batch_records(batch, None) == [{name: i for i, name in enumerate(names)}]


def test_the_driver_commit_logs_the_totals(caplog: pytest.LogCaptureFixture) -> None:
    from zerobus.spark.writers import ZerobusCommitMessage, ZerobusStreamWriter

    settings = resolve_settings({"table": "main.default.t"}, ENVIRONMENT)
    messages = [ZerobusCommitMessage(0, 0, 700, "s-1"), ZerobusCommitMessage(1, 1, 300, "s-2")]
    with caplog.at_level("INFO", logger="zerobus.spark.writers"):
        ZerobusBatchWriter(settings, None, None).commit(list(messages))
        ZerobusStreamWriter(settings, None, None).commit(list(messages), 7)
        ZerobusBatchWriter(settings, None, None).abort([messages[0], None])
    assert "write: 1000 rows written to main.default.t by 2 tasks" in caplog.text
    assert "micro-batch 7: 1000 rows written to main.default.t by 2 tasks" in caplog.text
    assert "write aborted: 1 of 2 tasks had already written 700 rows to main.default.t" in caplog.text


def test_an_empty_partition_opens_no_stream() -> None:
    # Nothing listens on port 1: opening a stream would fail the write.
    settings = resolve_settings({"table": "main.default.t", "recovery": "false"}, ENVIRONMENT)
    message = ZerobusBatchWriter(settings, None, None).write(iter([]))
    assert (message.rows, message.stream_id) == (0, None)
