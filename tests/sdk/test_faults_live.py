"""Every fault the local server can inject, on both drivers: recovery, failure, nothing lost."""

from __future__ import annotations

from collections import Counter
from types import ModuleType
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options, ids
from tests.support.waiting import wait_until
from zerobus.engine import StreamTimeoutError
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import StreamState, TableProperties


def _open(driver: Any, server: Any, table: str, descriptor: Any = None, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


def _ingest_in_requests(driver: Any, stream: Any, start: int, stop: int, per_call: int = 10) -> None:
    """Ingest ids start..stop-1 with the batch API, `per_call` records per submission."""
    batches = [[{"id": i} for i in range(s, min(s + per_call, stop))] for s in range(start, stop, per_call)]
    driver.ingest_all(stream, "ingest_records_offset", batches)


# --- creation -------------------------------------------------------------------------------------


def test_create_failures_are_retried(driver: Any, zerobus_server: Any, events_table: str) -> None:
    before = zerobus_server.faults.creates_failed
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=2)
    stream = _open(driver, zerobus_server, events_table, recovery_retries=3)
    assert zerobus_server.faults.creates_failed - before == 2
    stream.ingest_record_offset({"id": 1})
    stream.close()
    assert ids(zerobus_server.rows(events_table)) == [1]


def test_create_failures_exhaust_the_retries(driver: Any, zerobus_server: Any, events_table: str) -> None:
    before = zerobus_server.faults.creates_failed
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=10)
    with pytest.raises(ZerobusException, match="injected: busy") as raised:
        _open(driver, zerobus_server, events_table, recovery_retries=2)
    assert not isinstance(raised.value, NonRetriableException)
    assert zerobus_server.faults.creates_failed - before == 3  # 1 + recovery_retries


def test_non_retryable_create_failure_is_not_retried(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    before = zerobus_server.faults.creates_failed
    zerobus_server.faults.fail_create(grpc.StatusCode.PERMISSION_DENIED, "injected: 4024 grants", times=5)
    with pytest.raises(NonRetriableException, match=r"PERMISSION_DENIED.*4024 grants"):
        _open(driver, zerobus_server, events_table)
    assert zerobus_server.faults.creates_failed - before == 1


def test_bad_credentials_fail_creation(driver: Any, zerobus_server: Any, events_table: str) -> None:
    with pytest.raises(NonRetriableException, match=r"401|invalid|credentials"):
        driver.create_stream("nobody", "wrong", TableProperties(events_table), fast_options())


def test_missing_grants_fail_creation(
    driver: Any, zerobus_server: Any, events_table: str, events_pb2: ModuleType
) -> None:
    from zerobus.server import Grant

    catalog, schema, _ = events_table.split(".")
    zerobus_server.add_principal(
        f"reader-{driver.name}",
        "s3cret",
        [
            Grant(catalog, ["USE CATALOG"]),
            Grant(f"{catalog}.{schema}", ["USE SCHEMA"]),
            Grant(events_table, ["SELECT"]),
        ],
    )
    with pytest.raises(NonRetriableException):
        driver.create_stream(
            f"reader-{driver.name}",
            "s3cret",
            TableProperties(events_table, events_pb2.Event.DESCRIPTOR),
            fast_options(),
        )


def test_missing_table_fails_creation(driver: Any, zerobus_server: Any, events_pb2: ModuleType) -> None:
    missing = "main.tests.no_such_table_anywhere"
    with pytest.raises(NonRetriableException, match="no_such_table_anywhere"):
        _open(driver, zerobus_server, missing)  # schema lookup in Unity Catalog
    with pytest.raises(NonRetriableException, match="NOT_FOUND"):
        _open(driver, zerobus_server, missing, events_pb2.Event.DESCRIPTOR)  # the server refuses


def test_schema_mismatch_fails_creation(driver: Any, zerobus_server: Any, events_table: str) -> None:
    other = schema_from_ddl("id BIGINT NOT NULL, name INT, extra STRING", events_table)
    with pytest.raises(NonRetriableException):
        _open(driver, zerobus_server, events_table, other)


# --- during the stream ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, None], ids=["status", "connection-lost"])
def test_call_ended_after_n_records_recovers(
    driver: Any, zerobus_server: Any, events_table: str, code: grpc.StatusCode | None
) -> None:
    stream = _open(driver, zerobus_server, events_table)
    first_id = stream.stream_id
    zerobus_server.faults.end_call_after(50, code, times=2)
    _ingest_in_requests(driver, stream, 0, 300)
    stream.flush()
    assert stream.stream_id != first_id
    assert stream.get_state() is StreamState.OPENED
    stream.close()
    rows = ids(zerobus_server.rows(events_table))
    assert sorted(set(rows)) == list(range(300))  # nothing missing; resends may duplicate


def test_withheld_acks_trigger_lack_of_ack_recovery(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    stream = _open(
        driver, zerobus_server, events_table, server_lack_of_ack_timeout_ms=200, recovery_retries=50
    )
    first_id = stream.stream_id
    zerobus_server.faults.withhold_acks()
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(20)])
    assert wait_until(lambda: stream.stream_id != first_id)  # recovered at least once
    zerobus_server.faults.release_acks()
    stream.flush()
    stream.close()
    assert sorted(set(ids(zerobus_server.rows(events_table)))) == list(range(20))


def test_acks_that_never_come_fail_the_stream(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = _open(
        driver, zerobus_server, events_table, server_lack_of_ack_timeout_ms=100, recovery_retries=1
    )
    zerobus_server.faults.withhold_acks()
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(5)])
    with pytest.raises(ZerobusException, match="no acknowledgment"):
        stream.flush()
    assert stream.get_state() is StreamState.FAILED
    unacked = list(stream.get_unacked_records())
    assert len(unacked) == 5
    zerobus_server.faults.release_acks()


@pytest.mark.parametrize("pause_ms", [None, 0, 300], ids=["server-duration", "at-once", "capped"])
def test_close_signal_rotates_the_stream(
    driver: Any, zerobus_server: Any, events_table: str, pause_ms: int | None
) -> None:
    stream = _open(driver, zerobus_server, events_table, stream_paused_max_wait_time_ms=pause_ms)
    first_id = stream.stream_id
    zerobus_server.faults.delay_acks(0.05)  # keep records in flight when the signal comes
    _ingest_in_requests(driver, stream, 0, 100)
    assert zerobus_server.faults.send_close_signal(1000) >= 1
    _ingest_in_requests(driver, stream, 100, 200)
    assert wait_until(lambda: stream.stream_id != first_id)
    stream.flush()
    stream.close()
    rows = ids(zerobus_server.rows(events_table))
    assert sorted(set(rows)) == list(range(200))
    if pause_ms is None:  # waiting the server's whole duration for acks: nothing had to be resent
        assert len(rows) == 200


def test_non_retryable_status_mid_stream_fails_with_the_real_error(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    stream = _open(driver, zerobus_server, events_table)
    zerobus_server.faults.fail_after(20, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044 bad value")
    _ingest_in_requests(driver, stream, 0, 20)
    stream.flush()  # the first 20 are acknowledged
    # One request past the threshold: were the client still writing when the server ends the
    # call, grpc.aio could report INTERNAL instead of the server's status (grpc/grpc#36066).
    _ingest_in_requests(driver, stream, 20, 30)
    with pytest.raises(NonRetriableException, match=r"INVALID_ARGUMENT.*4044 bad value"):
        stream.flush()
    assert stream.get_state() is StreamState.FAILED
    with pytest.raises(NonRetriableException, match="4044 bad value"):
        stream.ingest_record_offset({"id": 99})
    batches = list(stream.get_unacked_batches())
    assert [[r for r in batch] for batch in batches] and len(batches) == 1
    unacked = list(stream.get_unacked_records())
    assert len(unacked) == 10
    with pytest.raises(NonRetriableException, match="4044 bad value"):
        stream.close()  # close reports the real error once...
    stream.close()  # ...and is idempotent afterwards
    again = driver.recreate_stream(stream)
    again.close()
    rows = ids(zerobus_server.rows(events_table))
    assert sorted(set(rows)) == list(range(30))
    assert Counter(rows).most_common(1)[0][1] == 1  # the rejected request was never stored


def test_close_while_recovering_does_not_wait_for_the_reconnect(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    import threading

    stream = _open(driver, zerobus_server, events_table, recovery_backoff_ms=600_000, recovery_retries=5)
    stream.ingest_record_offset({"id": 1})
    stream.flush()
    before = zerobus_server.faults.creates_failed
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=1)
    zerobus_server.faults.send_close_signal(0)  # rotate; the new call fails; a 10-minute backoff follows
    assert wait_until(lambda: zerobus_server.faults.creates_failed > before)
    assert wait_until(lambda: stream.get_state() is StreamState.RECOVERING)
    closing = threading.Thread(target=stream.close)
    closing.start()
    closing.join(30)
    assert not closing.is_alive()  # woke the sleeping supervisor instead of waiting out the backoff
    assert stream.get_state() is StreamState.CLOSED
    assert ids(zerobus_server.rows(events_table)) == [1]


def test_close_during_a_backoff_keeps_the_backoff_and_the_records(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    stream = _open(driver, zerobus_server, events_table, recovery_backoff_ms=600_000, flush_timeout_ms=500)
    stream.ingest_record_offset({"id": 1})
    stream.flush()
    before = zerobus_server.faults.creates_failed
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=1)
    zerobus_server.faults.end_call_after(0, grpc.StatusCode.UNAVAILABLE)
    stream.ingest_record_offset({"id": 2})  # stored, never acknowledged; the reconnect fails; backoff
    assert wait_until(lambda: zerobus_server.faults.creates_failed > before)
    with pytest.raises(StreamTimeoutError, match=r"close timed out.*injected: busy"):
        stream.close()  # no early reconnect to sneak the record through: the backoff holds
    assert stream.get_state() is StreamState.FAILED
    assert len(list(stream.get_unacked_records())) == 1
