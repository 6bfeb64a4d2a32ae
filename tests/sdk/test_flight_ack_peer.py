"""The benchmarks' acknowledge-only Flight peer (benchmarks/flight_ack_sink.py on h2_peer.py).

benchmarks/arrow_stream.py compares Arrow clients against it, so it must speak `DoPut` as the
clients expect: the ready signal, cumulative acks naming the latest batch and the rows so far,
a clean end of the call; and an unknown method is refused, not hung.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import grpc
import pyarrow as pa
import pytest

from benchmarks.flight_ack_sink import AckingCall
from benchmarks.h2_peer import H2Peer
from tests.sdk.test_arrow_streams_live import DDL, rows_of
from zerobus.protocol.flight import DO_PUT_PATH, FlightData, PutResult
from zerobus.sdk.sync import ZerobusSdk
from zerobus.server import LocalZerobusServer


@pytest.fixture
def peer() -> Iterator[H2Peer]:
    server = H2Peer(DO_PUT_PATH, AckingCall)
    server.start()
    yield server
    server.stop(None)


def _flight_data(offset: int, rows: int) -> bytes:
    batch = pa.record_batch({"id": list(range(rows))})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    reader = pa.ipc.MessageReader.open_stream(sink.getvalue())
    reader.read_next_message()  # the schema
    message = reader.read_next_message()
    metadata = json.dumps({"offset_id": offset}).encode()
    data: bytes = FlightData(
        data_header=message.metadata.to_pybytes(), app_metadata=metadata, data_body=message.body.to_pybytes()
    ).SerializeToString()
    return data


def _acks(replies: list[bytes]) -> list[dict[str, int]]:
    return [json.loads(PutResult.FromString(reply).app_metadata) for reply in replies]


def test_batches_that_arrive_together_get_one_cumulative_ack() -> None:
    call = AckingCall()
    assert _acks([call.opening()]) == [{"ack_up_to_offset": -1, "ack_up_to_records": 0}]
    for offset, rows in ((0, 3), (1, 4)):
        data = _flight_data(offset, rows)
        call.on_message(data[:200], len(data))
    reply = call.take_reply()
    assert reply is not None and _acks([reply]) == [{"ack_up_to_offset": 1, "ack_up_to_records": 7}]
    assert call.take_reply() is None  # nothing new since


def test_our_arrow_stream_runs_against_the_peer(
    peer: H2Peer, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(DDL)  # tokens still come from the local server
    sdk = ZerobusSdk(f"http://127.0.0.1:{peer.port}", zerobus_server.workspace_url)
    try:
        schema = zerobus_server.table_schema(table).arrow_schema()
        stream = sdk.create_arrow_stream(
            table, schema, zerobus_server.client_id, zerobus_server.client_secret
        )
        for start in range(0, 500, 5):
            stream.ingest_batch(rows_of(range(start, start + 5)))
        stream.flush()
        stats = stream.stats()
        assert (stats.acknowledged_records, stats.recoveries) == (500, 0)
        stream.close()
    finally:
        sdk.close()


def test_an_unknown_method_is_refused(peer: H2Peer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{peer.port}") as channel:
        method = channel.unary_unary("/arrow.flight.protocol.FlightService/Handshake")
        with pytest.raises(grpc.RpcError) as refused:
            method(b"", timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
