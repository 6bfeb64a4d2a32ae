"""A server whose disk fails a write: the SDK recovers and no acknowledged record is lost."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from tests.sdk.conftest import fast_options
from zerobus.sdk.shared import TableProperties


@pytest.mark.parametrize(
    ("code", "short", "at"),
    [(errno.ENOSPC, True, "write"), (errno.EIO, False, "fsync")],
    ids=["short-write", "fsync-eio"],
)
def test_stream_recovers_from_failed_log_writes_and_loses_nothing(
    driver: Any, zerobus_server: Any, events_table: str, code: int, short: bool, at: str
) -> None:
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(events_table),
        fast_options(recovery_retries=5),
    )
    batches = [[{"id": i} for i in range(start, start + 50)] for start in range(0, 500, 50)]
    driver.ingest_all(stream, "ingest_records_offset", batches[:3])
    stream.flush()
    failed_before = zerobus_server.faults.log_writes_failed
    zerobus_server.faults.fail_log_writes(code, count=2, short=short, at=at)
    driver.ingest_all(stream, "ingest_records_offset", batches[3:])
    stream.close()
    assert zerobus_server.faults.log_writes_failed - failed_before == 2
    stored = [row["id"] for row in zerobus_server.rows(events_table)]
    assert sorted(set(stored)) == list(range(500))  # duplicates allowed (at-least-once), loss is not
