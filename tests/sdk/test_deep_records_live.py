"""Deeply nested records fail at the ingest call naming the depth; the stream stays healthy.

Python's `json` gives up with a RecursionError somewhere near a thousand levels; the SDK must
turn any depth past its limit into an InvalidRecordError instead, so nothing is queued, sent,
retried as an INTERNAL error, or lost around it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.errors import InvalidRecordError
from zerobus.json_depth import MAX_JSON_DEPTH
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import RecordType, TableProperties

DDL = "id BIGINT NOT NULL, v VARIANT"


def _nested_list(levels: int) -> list[Any]:
    outer: list[Any] = []
    inner = outer
    for _ in range(levels - 1):
        inner.append([])
        inner = inner[0]
    return outer


def _nested_text(levels: int) -> str:
    return "[" * levels + "]" * levels


DEEP = [MAX_JSON_DEPTH + 1, 5_000, 100_000]


@pytest.mark.parametrize("levels", DEEP)
@pytest.mark.parametrize("with_schema", [False, True], ids=["no-schema", "schema"])
def test_deep_json_records_fail_at_the_ingest_call(
    driver: Any, zerobus_server: Any, zerobus_table: Any, levels: int, with_schema: bool
) -> None:
    table = zerobus_table(DDL)
    schema = schema_from_ddl(DDL, table) if with_schema else None
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table, schema),
        fast_options(record_type=RecordType.JSON),
    )
    deep_records = [
        {"id": 1, "v": _nested_list(levels)},  # a dict: rendered by the SDK
        '{"id": 1, "v": ' + _nested_text(levels) + "}",  # JSON text
        {"id": 1, "v": _nested_text(levels)},  # VARIANT given as JSON text
    ]
    if not with_schema:
        deep_records.pop()  # without a schema a string value is just a string
    for record in deep_records:
        with pytest.raises(InvalidRecordError, match=r"nested \d+ levels deep \(at most 512"):
            stream.ingest_record_offset(record)
        with pytest.raises(InvalidRecordError, match="levels deep"):
            stream.ingest_records_offset([{"id": 2}, record])
    stream.ingest_record_offset({"id": 3, "v": json.dumps(_nested_list(3))} if with_schema else {"id": 3})
    stream.close()
    assert ids(zerobus_server.rows(table)) == [3]


def test_records_at_the_limit_are_delivered(driver: Any, zerobus_server: Any, zerobus_table: Any) -> None:
    table = zerobus_table(DDL)
    schema = schema_from_ddl(DDL, table)
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table, schema),
        fast_options(record_type=RecordType.JSON),
    )
    stream.ingest_record_offset({"id": 1, "v": _nested_list(MAX_JSON_DEPTH)})
    stream.ingest_record_offset({"id": 2, "v": _nested_text(MAX_JSON_DEPTH)})
    stream.close()
    assert ids(zerobus_server.rows(table)) == [1, 2]
