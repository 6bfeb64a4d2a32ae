"""A generated model's compiled path through the SDK to a Delta table, on both drivers."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from tests.sdk.conftest import fast_options
from zerobus.codegen.runtime_model import model_class
from zerobus.errors import InvalidRecordError
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import TableProperties

DDL = (
    "id BIGINT NOT NULL, name STRING, day DATE, at TIMESTAMP, wall TIMESTAMP_NTZ, amount DECIMAL(6,3), "
    "tags MAP<STRING,STRING>, counts ARRAY<INT>, loc STRUCT<lat:DOUBLE, label:STRING>, small TINYINT"
)
CET = dt.timezone(dt.timedelta(hours=1))


def test_model_records_land_with_their_values_and_bad_ones_fail_at_the_call(
    driver: Any, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table(DDL)
    model: Any = model_class(schema_from_ddl(DDL, table))
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table, model), fast_options()
    )
    records = [
        model(
            id=i,
            name=f"n{i}",
            day=dt.date(2024, 2, 28) + dt.timedelta(days=i),
            at=dt.datetime(2024, 1, 1, 12, 0, i, tzinfo=CET),
            wall=dt.datetime(1969, 12, 31, 23, 59, i),
            amount=decimal.Decimal(i).scaleb(-1),
            tags={"k": str(i)},
            counts=[i, -i],
            loc={"lat": i / 2, "label": "x"},
            small=-i,
        )
        for i in range(3)
    ]
    driver.ingest_all(stream, "ingest_record_offset", records)
    bad: Any = model(id=9)
    bad.small = 300  # changed after validation: still checked, naming the column
    with pytest.raises(InvalidRecordError, match=r"'small'.*out of range for TINYINT"):
        stream.ingest_record_offset(bad)
    stream.close()
    rows = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == [0, 1, 2]
    for i, row in enumerate(rows):
        assert row["name"] == f"n{i}"
        assert row["day"] == dt.date(2024, 2, 28) + dt.timedelta(days=i)
        assert row["at"] == dt.datetime(2024, 1, 1, 11, 0, i, tzinfo=dt.timezone.utc)
        assert row["wall"] == dt.datetime(1969, 12, 31, 23, 59, i)
        assert decimal.Decimal(str(row["amount"])) == decimal.Decimal(i).scaleb(-1)
        assert dict(row["tags"]) == {"k": str(i)}
        assert row["counts"] == [i, -i]
        assert row["loc"] == {"lat": i / 2, "label": "x"}
        assert row["small"] == -i
