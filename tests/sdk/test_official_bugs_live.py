"""The official SDKs' known bugs (docs/PROTOCOL.md section 5, last bullet), each shown absent here."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.engine import StreamTimeoutError
from zerobus.errors import NonRetriableException
from zerobus.sdk.shared import StreamState, TableProperties


def _open(driver: Any, server: Any, table: str, descriptor: Any = None, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


def test_nowait_records_survive_flush_then_close(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = _open(driver, zerobus_server, events_table)
    driver.ingest_all(stream, "ingest_record_nowait", [{"id": i} for i in range(3000)])
    stream.ingest_records_nowait([{"id": 3000}, {"id": 3001}])
    stream.flush()
    stream.close()
    assert ids(zerobus_server.rows(events_table)) == list(range(3002))


def test_unacked_records_survive_a_close_whose_flush_timed_out(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    stream = _open(driver, zerobus_server, events_table, flush_timeout_ms=300)
    zerobus_server.faults.withhold_acks()
    driver.ingest_all(stream, "ingest_record_nowait", [{"id": i} for i in range(5)])
    with pytest.raises(StreamTimeoutError, match="close timed out") as raised:
        stream.close()
    assert isinstance(raised.value, TimeoutError)
    assert stream.get_state() is StreamState.FAILED
    unacked = list(stream.get_unacked_records())
    assert len(unacked) == 5 and [len(b) for b in stream.get_unacked_batches()] == [1] * 5
    zerobus_server.faults.release_acks()
    again = driver.recreate_stream(stream)
    again.close()
    assert sorted(set(ids(zerobus_server.rows(events_table)))) == list(range(5))


def test_close_reports_the_real_server_error(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = _open(driver, zerobus_server, events_table)
    zerobus_server.faults.fail_after(
        0, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044 DATE sent as a string"
    )
    stream.ingest_record_offset({"id": 1})
    with pytest.raises(NonRetriableException, match="4044 DATE sent as a string"):
        stream.close()  # racing the failure: never a generic "stream closed"
    assert stream.get_state() is StreamState.FAILED


def test_wait_timeouts_are_honoured(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = _open(driver, zerobus_server, events_table)
    zerobus_server.faults.withhold_acks()
    ack = stream.ingest_record({"id": 1})
    with pytest.raises(StreamTimeoutError, match=r"timed out after 0.2 s"):
        ack.wait_for_ack(0.2)
    offset = stream.ingest_record_offset({"id": 2})
    with pytest.raises(TimeoutError):
        stream.wait_for_offset(offset, 0.1)
    assert stream.get_state() is StreamState.OPENED  # a timed-out wait does not hurt the stream
    zerobus_server.faults.release_acks()
    assert ack.wait_for_ack(10) == 0
    stream.wait_for_offset(offset, 10)
    stream.close()


def test_descriptor_is_the_given_message_not_the_first_of_its_file(
    driver: Any, zerobus_server: Any, events_table: str, events_pb2: ModuleType
) -> None:
    assert list(events_pb2.DESCRIPTOR.message_types_by_name) == ["Unrelated", "Event"]
    stream = _open(driver, zerobus_server, events_table, events_pb2.Event.DESCRIPTOR)
    stream.ingest_record_offset(events_pb2.Event(id=1, name="second message"))
    stream.close()
    assert zerobus_server.rows(events_table) == [{"id": 1, "name": "second message"}]
