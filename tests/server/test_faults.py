"""Fault injection: every fault of FaultInjector, observed over real gRPC."""

from __future__ import annotations

import time

import grpc
import pytest

from tests.server.wire_client import open_stream
from zerobus.server import LocalZerobusServer
from zerobus.server.frontends.stream_state import LIFETIME_ERROR


def test_fail_create_ends_the_next_creations_with_the_status(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "try later", times=2)
    for _ in range(2):
        with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
            error = stream.wait_done()
            assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
            assert error.details() == "try later"
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
    assert zerobus_server.faults.creates_failed >= 2


def test_end_call_after_stores_the_records_but_does_not_ack_them(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    ended_before = zerobus_server.faults.calls_ended
    zerobus_server.faults.end_call_after(3, grpc.StatusCode.UNAVAILABLE, "dropped")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        assert stream.wait_acked(0)
        stream.batch(1, [kit.encode(id=1), kit.encode(id=2)])  # the third record: the threshold
        error = stream.wait_done()
        assert (
            error is not None and error.code() == grpc.StatusCode.UNAVAILABLE and error.details() == "dropped"
        )
        assert stream.acked == 0  # durable but never acknowledged: a client must resend (duplicates)
    assert [r["id"] for r in zerobus_server.rows(kit.name)] == [0, 1, 2]
    assert zerobus_server.faults.calls_ended == ended_before + 1
    # The fault fired once: the next call is healthy.
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=3))
        assert stream.wait_acked(0)


def test_end_call_after_without_status_resets_the_stream(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.faults.end_call_after(1, code=None)
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        error = stream.wait_done()
        assert error is not None
        # No status from the server: grpc reports the reset stream, with a retryable code.
        assert error.code() not in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT)
        assert stream.acked == -1


def test_fail_after_acks_what_came_before_and_stores_nothing_more(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.faults.fail_after(2, grpc.StatusCode.FAILED_PRECONDITION, "no more")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        stream.record(1, kit.encode(id=1))
        stream.record(2, kit.encode(id=2))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert stream.acked == 1
    assert [r["id"] for r in zerobus_server.rows(kit.name)] == [0, 1]


def test_fault_armed_on_an_open_stream_counts_from_arming(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        for offset in range(5):
            stream.record(offset, kit.encode(id=offset))
        assert stream.wait_acked(4)
        zerobus_server.faults.fail_after(2, grpc.StatusCode.ABORTED, "later")
        for offset in range(5, 8):
            stream.record(offset, kit.encode(id=offset))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.ABORTED
        assert stream.acked == 6


def test_withheld_acks_are_released_as_one_cumulative_ack(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.faults.withhold_acks()
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        for offset in range(3):
            stream.record(offset, kit.encode(id=offset))
        # Stored durably even though nothing is acknowledged.
        log = zerobus_server.core.table(kit.name).log
        deadline = time.monotonic() + 10
        while log.durable_seq < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r["id"] for r in zerobus_server.rows(kit.name)] == [0, 1, 2]
        assert stream.acked == -1
        zerobus_server.faults.release_acks()
        assert stream.wait_acked(2)


def test_delayed_acks_arrive_after_the_delay(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    zerobus_server.faults.delay_acks(0.3)
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        sent = time.monotonic()
        stream.record(0, kit.encode(id=0))
        assert stream.wait_acked(0)
        assert time.monotonic() - sent >= 0.3


def test_send_close_signal_then_error_6002(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        assert stream.wait_acked(0)
        assert zerobus_server.faults.send_close_signal(200) >= 1
        assert stream.wait_for(lambda: bool(stream.close_signals()))
        signal = stream.close_signals()[0]
        assert signal.duration.seconds == 0 and signal.duration.nanos == 200_000_000
        # Still acknowledging while the call lives.
        stream.record(1, kit.encode(id=1))
        assert stream.wait_acked(1)
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
        assert "Error code 6002" in (error.details() or "") and error.details() == LIFETIME_ERROR


def test_max_stream_duration_signals_then_ends_with_6002(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with LocalZerobusServer(
        data_dir=tmp_path, max_stream_duration_s=0.6, close_signal_lead_s=0.3, tables={"a.b.c": "id BIGINT"}
    ) as server:
        from zerobus.schema.descriptor import descriptor_proto

        descriptor = descriptor_proto(server.table_schema("a.b.c")).SerializeToString()
        with open_stream(server, "a.b.c", descriptor) as stream:
            stream.wait_created()
            started = time.monotonic()
            assert stream.wait_for(lambda: bool(stream.close_signals()), timeout=5)
            assert stream.close_signals()[0].duration.nanos == 300_000_000
            error = stream.wait_done(timeout=5)
            assert time.monotonic() - started >= 0.5
            assert error is not None and "Error code 6002" in (error.details() or "")
        assert server.stats.close_signals_sent == 1


def test_reset_disarms_everything(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    faults = zerobus_server.faults
    faults.fail_create(grpc.StatusCode.INTERNAL)
    faults.end_call_after(0)
    faults.withhold_acks()
    faults.delay_acks(5)
    faults.reset()
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        assert stream.wait_acked(0, timeout=3)


def test_invalid_fault_arguments_are_refused(zerobus_server: LocalZerobusServer) -> None:
    with pytest.raises(ValueError, match="times"):
        zerobus_server.faults.fail_create(grpc.StatusCode.INTERNAL, times=0)
    with pytest.raises(ValueError, match="records"):
        zerobus_server.faults.end_call_after(-1)
    with pytest.raises(ValueError, match="seconds"):
        zerobus_server.faults.delay_acks(-1)
