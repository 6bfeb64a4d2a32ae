"""`stream.ingest_arrow` against the real local server, both drivers, rows read back from Delta.

The same rows ingested as Arrow and as dicts end up identical in their Delta tables; a table
larger than one request goes as several submissions under `max_inflight_records`; a refused
table queues nothing and the stream goes on; DataFrames (pandas, polars) go in as they are.
"""

from __future__ import annotations

from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from tests.sdk.conftest import fast_options, ids  # noqa: E402
from tests.sdk.test_arrow_records import ALL_TYPES, ROWS  # noqa: E402
from tests.sdk.test_pool_live import call  # noqa: E402
from zerobus.errors import ConfigurationError, InvalidRecordError, SchemaError  # noqa: E402
from zerobus.schema.parse import schema_from_ddl  # noqa: E402
from zerobus.sdk.shared import RecordType, TableProperties  # noqa: E402


def _open(driver: Any, server: Any, table: str, descriptor: Any, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


def _by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["id"])


@pytest.mark.parametrize("record_type", [RecordType.PROTO, RecordType.JSON])
def test_every_type_lands_exactly_as_the_same_rows_sent_as_dicts(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record_type: RecordType
) -> None:
    via_arrow, via_dicts = zerobus_table(ALL_TYPES), zerobus_table(ALL_TYPES)
    schema = schema_from_ddl(ALL_TYPES, via_arrow)
    arrow_stream = _open(driver, zerobus_server, via_arrow, schema, record_type=record_type)
    dict_stream = _open(driver, zerobus_server, via_dicts, schema, record_type=record_type)
    table = pa.Table.from_pylist(ROWS, schema=schema.arrow_schema())
    assert arrow_stream.ingest_arrow(table) == 0  # one submission: one offset
    assert arrow_stream.ingest_arrow(table.slice(0, 0)) is None
    dict_stream.ingest_records_offset(ROWS)
    arrow_stream.close()
    dict_stream.close()
    landed = _by_id(zerobus_server.rows(via_arrow))
    assert len(landed) == len(ROWS)
    assert landed == _by_id(zerobus_server.rows(via_dicts))


def test_a_table_larger_than_a_request_goes_as_several_submissions_in_order(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    ddl = "id BIGINT NOT NULL, blob BINARY"
    name = zerobus_table(ddl)
    stream = _open(driver, zerobus_server, name, schema_from_ddl(ddl, name), max_inflight_records=2_000)
    rows = 12_000  # 12 MB: above the 10 MiB request limit, and six times the in-flight window
    blob = pa.array([bytes([n % 251]) * 1_000 for n in range(rows)], pa.binary())
    last = stream.ingest_arrow(pa.table({"id": pa.array(range(rows), pa.int64()), "blob": blob}))
    assert last is not None and last >= rows // 500 - 1  # at most a quarter of the window per submission
    stream.close()
    stats = stream.stats()
    assert stats.acknowledged_records == rows
    assert stats.sent_requests > 1
    landed = zerobus_server.rows(name)
    assert [row["id"] for row in landed] == list(range(rows))  # one stream keeps its order
    assert all(row["blob"] == bytes([row["id"] % 251]) * 1_000 for row in landed)


def test_a_record_above_the_batch_size_but_within_a_request_goes_alone(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    ddl = "id BIGINT NOT NULL, blob BINARY"
    name = zerobus_table(ddl)
    stream = _open(driver, zerobus_server, name, schema_from_ddl(ddl, name))
    blobs = [b"a", b"b" * 3_000_000, b"c"]  # 3 MB: above the 2 MiB batch size, below 10 MiB
    assert stream.ingest_arrow(pa.table({"id": [0, 1, 2], "blob": blobs})) == 2
    stream.close()
    assert [row["blob"] for row in _by_id(zerobus_server.rows(name))] == blobs


def test_a_refused_table_queues_nothing_and_the_stream_goes_on(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    ddl = "id BIGINT NOT NULL, n INT"
    name = zerobus_table(ddl)
    stream = _open(driver, zerobus_server, name, schema_from_ddl(ddl, name))
    bad_value = pa.table({"id": [1, 2, 3], "n": pa.array([1, 2, 2**40])})
    with pytest.raises(InvalidRecordError, match="field 'n': row 2: out of range for INT"):
        stream.ingest_arrow(bad_value)
    with pytest.raises(SchemaError, match="column 'other': the table has no such column"):
        stream.ingest_arrow(pa.table({"id": [4], "other": [1]}))
    assert stream.ingest_arrow(pa.table({"id": [5, 6], "n": pa.array([7, None], pa.int32())})) == 0
    stream.close()
    assert stream.stats().ingested_records == 2
    assert _by_id(zerobus_server.rows(name)) == [{"id": 5, "n": 7}, {"id": 6, "n": None}]


def test_pandas_and_polars_dataframes_land_in_delta(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    ddl = "id BIGINT NOT NULL, device STRING, value DOUBLE"
    name = zerobus_table(ddl)
    stream = _open(driver, zerobus_server, name, schema_from_ddl(ddl, name))
    stream.ingest_arrow(pd.DataFrame({"id": [1, 2], "device": ["a", None], "value": [0.5, 1.5]}))
    stream.ingest_arrow(pl.DataFrame({"id": [3], "device": ["c"], "value": [None]}))
    stream.close()
    assert _by_id(zerobus_server.rows(name)) == [
        {"id": 1, "device": "a", "value": 0.5},
        {"id": 2, "device": None, "value": 1.5},
        {"id": 3, "device": "c", "value": None},
    ]
    assert ids(zerobus_server.rows(name)) == [1, 2, 3]


def test_a_pool_spreads_the_submissions_over_its_streams_and_refuses_a_key(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    ddl = "id BIGINT NOT NULL, name STRING"
    name = zerobus_table(ddl)
    properties = TableProperties(name, schema_from_ddl(ddl, name))

    def open_pool(**kwargs: Any) -> Any:
        return call(
            driver,
            lambda: driver.sdk.create_stream_pool(
                zerobus_server.client_id,
                zerobus_server.client_secret,
                properties,
                fast_options(max_inflight_records=400),
                **kwargs,
            ),
        )

    pool = open_pool(streams=2)
    rows = 5_000
    table = pa.table({"id": pa.array(range(rows), pa.int64()), "name": [f"n{n % 9}" for n in range(rows)]})
    offsets = call(driver, pool.ingest_arrow, table)
    assert len(offsets) == rows // 100  # a quarter of the window per submission
    assert {index for index, _ in offsets} == {0, 1}
    call(driver, pool.close)
    assert ids(zerobus_server.rows(name)) == list(range(rows))
    keyed = open_pool(streams=2, key="name")
    with pytest.raises(ConfigurationError, match="ingest_arrow needs a pool without key="):
        call(driver, keyed.ingest_arrow, table)
    call(driver, keyed.close)
