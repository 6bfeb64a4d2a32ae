"""Logical offsets, adaptive batching, wire offsets and the request encoding."""

from __future__ import annotations

import pytest

from tests.engine.scripted import FakeClock, ack, drain, make_core, open_call, parse_request
from zerobus.engine import MAX_REQUEST_BYTES, create_stream_request, records_request
from zerobus.errors import NonRetriableException


def test_logical_offsets_count_submissions_not_records(clock: FakeClock) -> None:
    core = make_core(clock)
    assert core.submit(b"a") == 0
    assert core.submit_many([b"b", b"c", b"d"], 3) == 1
    assert core.submit(b"e") == 2
    assert core.submit_many([b"f"], 1) == 3  # a one-record batch is a plain record
    assert core.last_offset == 3
    assert core.unacked_count == 6


def test_everything_waiting_goes_out_as_one_batch(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    for i in range(5):
        core.submit(b"r%d" % i)
    sent = drain(core, call_id)
    assert sent == [(0, [b"r0", b"r1", b"r2", b"r3", b"r4"])]


def test_a_lone_record_goes_out_alone_and_wire_offsets_grow_by_one(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    assert drain(core, call_id) == [(0, [b"a"])]
    core.submit(b"b")
    core.submit(b"c")
    assert drain(core, call_id) == [(1, [b"b", b"c"])]
    core.submit(b"d")
    assert drain(core, call_id) == [(2, [b"d"])]


def test_batches_are_bounded_by_records_and_never_split_a_submission(clock: FakeClock) -> None:
    core = make_core(clock, max_batch_records=4)
    call_id = open_call(core)
    core.submit(b"a")
    core.submit_many([b"b", b"c", b"d"], 3)
    core.submit_many([b"e", b"f"], 2)  # would make 6 records: waits for the next request
    core.submit(b"g")
    sent = drain(core, call_id)
    assert sent == [(0, [b"a", b"b", b"c", b"d"]), (1, [b"e", b"f", b"g"])]


def test_batches_are_bounded_by_bytes(clock: FakeClock) -> None:
    core = make_core(clock, max_batch_bytes=10)
    call_id = open_call(core)
    for payload in (b"1234", b"5678", b"9abc", b"d"):
        core.submit(payload)
    assert drain(core, call_id) == [(0, [b"1234", b"5678"]), (1, [b"9abc", b"d"])]


def test_a_submission_larger_than_the_batch_bound_still_goes_out_alone(clock: FakeClock) -> None:
    core = make_core(clock, max_batch_records=2)
    call_id = open_call(core)
    core.submit(b"a")
    core.submit_many([b"b", b"c", b"d"], 3)
    assert drain(core, call_id) == [(0, [b"a"]), (1, [b"b", b"c", b"d"])]


def test_records_above_the_service_limit_are_refused_before_queueing(clock: FakeClock) -> None:
    core = make_core(clock)
    with pytest.raises(NonRetriableException, match="10485760"):
        core.submit(b"x" * MAX_REQUEST_BYTES)
    json_core = make_core(clock, record_type=2)
    with pytest.raises(NonRetriableException, match="bytes"):
        # 3 Mi characters of 4 bytes each: small in len(), far above 10 MiB on the wire.
        json_core.submit("\U0001f600" * (3 * 1024 * 1024))
    assert core.unacked_count == 0 and json_core.unacked_count == 0
    assert core.submit(b"ok") == 0  # the stream is unaffected


def test_nothing_is_sent_before_the_call_is_created(clock: FakeClock) -> None:
    core = make_core(clock)
    core.submit(b"early")
    call_id = core.begin_attempt()
    assert call_id is not None
    assert core.next_request(call_id) is None
    from tests.engine.scripted import created

    core.on_response(call_id, created())
    assert drain(core, call_id) == [(0, [b"early"])]


def test_cumulative_acks_map_back_to_logical_offsets(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")  # offset 0 -> wire 0
    drain(core, call_id)
    core.submit_many([b"b", b"c"], 2)  # offset 1
    core.submit(b"d")  # offset 2 -> both in wire 1
    drain(core, call_id)
    core.submit(b"e")  # offset 3 -> wire 2
    drain(core, call_id)

    effects = core.on_response(call_id, ack(0))
    assert effects is not None and effects.acked == (0, 0)
    assert core.durable_offset == 0 and core.unacked_count == 4
    effects = core.on_response(call_id, ack(2))  # one ack for two requests
    assert effects is not None and effects.acked == (1, 3)
    assert core.durable_offset == 3 and core.unacked_count == 0


def test_stale_and_excess_acks_are_harmless(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    drain(core, call_id)
    core.on_response(call_id, ack(0))
    assert core.on_response(call_id, ack(0)) is None  # duplicate
    core.submit(b"b")
    drain(core, call_id)
    effects = core.on_response(call_id, ack(7))  # beyond what was sent: clamp
    assert effects is not None and effects.acked == (1, 1)
    assert core.on_response(call_id - 1, ack(9)) is None  # an older call's ack


def test_waiters_are_released_in_offset_order_and_only_when_durable(clock: FakeClock) -> None:
    from tests.engine.scripted import Recorder

    core = make_core(clock)
    call_id = open_call(core)
    for i in range(3):
        core.submit(b"%d" % i)
        drain(core, call_id)
    first, last = Recorder(), Recorder()
    assert core.add_waiter(2, last) and core.add_waiter(0, first)
    effects = core.on_response(call_id, ack(0))
    assert effects is not None and effects.released == [first]
    effects = core.on_response(call_id, ack(2))
    assert effects is not None and effects.released == [last]
    assert not core.add_waiter(1, Recorder())  # durable already: nothing to wait for
    with pytest.raises(ValueError, match="never handed out"):
        core.add_waiter(10, Recorder())


def test_in_flight_window_accounting(clock: FakeClock) -> None:
    core = make_core(clock, max_inflight_records=3)
    call_id = open_call(core)
    assert core.submissions.has_space(5)  # an empty window takes a batch of any size
    core.submit(b"a")
    core.submit(b"b")
    assert core.submissions.has_space(1) and not core.submissions.has_space(2)
    assert core.submissions.next_offset < core.submissions.window_end  # the hot path's check agrees
    core.submit(b"c")
    assert not core.submissions.has_space(1) and core.submissions.next_offset >= core.submissions.window_end
    sent = drain(core, call_id)
    assert [records for _, records in sent] == [[b"a"], [b"b"], [b"c"]]  # small window: small requests
    assert not core.submissions.has_space(1)  # sent is not acknowledged
    core.on_response(call_id, ack(sent[-1][0]))
    assert (
        core.unacked_count == 0
        and core.submissions.has_space(3)
        and core.submissions.next_offset < core.submissions.window_end
    )
    core.submit_many([b"d", b"e"], 2)  # batches count every record against the window
    assert core.unacked_count == 2 and core.submissions.has_space(1) and not core.submissions.has_space(2)
    assert core.submissions.next_offset < core.submissions.window_end


def test_request_encoding_single_and_batch() -> None:
    single = parse_request(records_request(4, [b"one"], json=False))
    assert single.WhichOneof("payload") == "ingest_record"
    assert single.ingest_record.offset_id == 4 and single.ingest_record.proto_encoded_record == b"one"
    batch = parse_request(records_request(5, [b"a", b"b"], json=False))
    assert batch.ingest_record_batch.offset_id == 5
    assert list(batch.ingest_record_batch.proto_encoded_batch.records) == [b"a", b"b"]
    json_batch = parse_request(records_request(0, ['{"a":1}', '{"a":2}'], json=True))
    assert list(json_batch.ingest_record_batch.json_batch.records) == ['{"a":1}', '{"a":2}']
    json_single = parse_request(records_request(1, ['{"a":1}'], json=True))
    assert json_single.ingest_record.json_record == '{"a":1}'
    create = parse_request(create_stream_request("c.s.t", 1, b"desc")).create_stream
    assert (create.table_name, create.record_type, create.descriptor_proto) == ("c.s.t", 1, b"desc")
    json_create = parse_request(create_stream_request("c.s.t", 2, None)).create_stream
    assert json_create.record_type == 2 and not json_create.HasField("descriptor_proto")


def test_unacked_records_and_batches_keep_ingest_order(clock: FakeClock) -> None:
    core = make_core(clock)
    call_id = open_call(core)
    core.submit(b"a")
    core.submit_many([b"b", b"c"], 2)
    drain(core, call_id)  # in flight
    core.submit(b"d")  # queued
    assert core.unacked_records() == [b"a", b"b", b"c", b"d"]
    assert core.unacked_batches() == [[b"a"], [b"b", b"c"], [b"d"]]
    core.on_response(call_id, ack(0))
    assert core.unacked_records() == [b"d"]
