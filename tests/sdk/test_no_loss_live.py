"""No loss: 200,000 records, faults injected at seeded random points, every record in the Delta table.

Duplicates are allowed (delivery is at-least-once: a resent request may already have been
stored) and are counted and reported; a missing record fails the test.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options
from zerobus.sdk.shared import StreamState, TableProperties

SEED = 20240229
TOTAL = 200_000


def _inject(server: Any, rng: random.Random) -> str:
    """Arm one random fault on the server; returns its name for the report."""
    faults = server.faults
    kind = rng.choice(["end_call", "connection_lost", "reject_retryable", "close_signal", "slow_acks"])
    if kind == "end_call":
        faults.end_call_after(rng.randint(1, 3000), grpc.StatusCode.UNAVAILABLE)
    elif kind == "connection_lost":
        faults.end_call_after(rng.randint(1, 3000), None)
    elif kind == "reject_retryable":
        faults.fail_after(rng.randint(0, 3000), grpc.StatusCode.RESOURCE_EXHAUSTED, "injected: throttled")
    elif kind == "close_signal":
        faults.send_close_signal(rng.randint(50, 400))
    else:
        faults.delay_acks(rng.choice([0.0, 0.01, 0.05]))
    return kind


def test_no_record_is_lost_under_random_faults(
    driver: Any, zerobus_server: Any, zerobus_table: Any, record_property: Any
) -> None:
    rng = random.Random(SEED)
    table = zerobus_table("id BIGINT NOT NULL, payload STRING")
    stream = driver.create_stream(
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table),
        fast_options(
            recovery_retries=20,
            recovery_backoff_ms=20,
            stream_paused_max_wait_time_ms=rng.choice([None, 0, 100]),
        ),
    )
    injected: Counter[str] = Counter()
    next_id = 0
    while next_id < TOTAL:
        if rng.random() < 0.1:
            injected[_inject(zerobus_server, rng)] += 1
        size = min(rng.randint(100, 2000), TOTAL - next_id)
        batch = [{"id": i, "payload": f"p{i}"} for i in range(next_id, next_id + size)]
        if rng.random() < 0.5:
            stream.ingest_records_offset(batch)
        else:
            driver.ingest_all(stream, "ingest_records_nowait", [batch])
        next_id += size
    zerobus_server.faults.reset()
    stream.flush()
    stream.close()
    assert stream.get_state() is StreamState.CLOSED
    rows = zerobus_server.rows(table)
    counts = Counter(row["id"] for row in rows)
    missing = TOTAL - len(set(counts) & set(range(TOTAL)))
    duplicates = len(rows) - len(counts)
    report = f"{driver.name}: {sum(injected.values())} faults {dict(injected)}, {duplicates} duplicates, {missing} missing"
    print(report)
    record_property("no_loss_report", report)
    assert sum(injected.values()) >= 10
    assert missing == 0, report
    assert set(counts) == set(range(TOTAL))
    assert all(rows_ok(row) for row in rows[:1000])


def rows_ok(row: dict[str, Any]) -> bool:
    return bool(row["payload"] == f"p{row['id']}")


@pytest.fixture(autouse=True)
def _no_leftover_faults(zerobus_server: Any) -> Any:
    yield
    zerobus_server.faults.reset()
