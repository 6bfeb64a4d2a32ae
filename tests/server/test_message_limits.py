"""Oversized gRPC messages are refused from their length prefix, before their body is read."""

from __future__ import annotations

from urllib.parse import unquote

import grpc

from tests.server.h2_wire import RawGrpcConnection, grpc_frame
from tests.server.wire_client import ingest_token
from zerobus.protocol import (
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordBatchRequest,
    ProtoEncodedRecordBatch,
    RecordTypeValue,
)
from zerobus.protocol.constants import MAX_REQUEST_BYTES
from zerobus.server import LocalZerobusServer

ANNOUNCED = 400 * 1024 * 1024  # what the length prefix claims


def _metadata(server: LocalZerobusServer, table: str) -> list[tuple[str, str]]:
    return [
        ("authorization", f"Bearer {ingest_token(server, table)}"),
        ("x-databricks-zerobus-table-name", table),
    ]


def _create(table: str, descriptor: bytes) -> bytes:
    return EphemeralStreamRequest(
        create_stream=CreateIngestStreamRequest(
            table_name=table, record_type=RecordTypeValue.PROTO, descriptor_proto=descriptor
        )
    ).SerializeToString()


def _batch(offset: int, records: list[bytes]) -> bytes:
    return EphemeralStreamRequest(
        ingest_record_batch=IngestRecordBatchRequest(
            offset_id=offset, proto_encoded_batch=ProtoEncodedRecordBatch(records=records)
        )
    ).SerializeToString()


def test_a_400_mib_request_is_refused_before_its_body_arrives(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT NOT NULL, blob BINARY")
    metadata = _metadata(zerobus_server, kit.name)
    with RawGrpcConnection(zerobus_server.grpc_port) as connection:
        call = connection.open_call(metadata)
        call.send(grpc_frame(_create(kit.name, kit.descriptor)))
        created = EphemeralStreamResponse.FromString(call.wait_message())
        assert created.WhichOneof("payload") == "create_stream_response"
        call.send(grpc_frame(_batch(0, [kit.encode(id=1)])))
        ack = EphemeralStreamResponse.FromString(call.wait_message())
        assert ack.ingest_record_response.durability_ack_up_to_offset == 0
        # Offset 1 announces 400 MiB; the body is streamed in 1 MiB pieces until the server answers.
        call.send(bytes([0]) + ANNOUNCED.to_bytes(4, "big"))
        call.send_zeros(ANNOUNCED)
        status, message = call.wait_status()
        assert call.bytes_sent < 64 * 1024 * 1024  # answered long before the body could arrive
        assert status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert unquote(message) == (
            f"request at offset 1 is {ANNOUNCED} bytes, over the {MAX_REQUEST_BYTES}-byte limit (10 MiB); "
            "send smaller batches"
        )
        # The connection stays healthy: a second call on it sends a large (allowed) request.
        second = connection.open_call(metadata)
        second.send(grpc_frame(_create(kit.name, kit.descriptor)))
        second.wait_message()
        big = _batch(0, [kit.encode(id=2, blob=bytes(3 * 1024 * 1024)) for _ in range(2)])
        second.send(grpc_frame(big))
        ack = EphemeralStreamResponse.FromString(second.wait_message())
        assert ack.ingest_record_response.durability_ack_up_to_offset == 0
    assert sorted(row["id"] for row in zerobus_server.rows(kit.name)) == [1, 2, 2]


def test_an_oversized_create_stream_is_refused_unread(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with RawGrpcConnection(zerobus_server.grpc_port) as connection:
        call = connection.open_call(_metadata(zerobus_server, kit.name))
        call.send((MAX_REQUEST_BYTES + 1).to_bytes(5, "big"))
        call.send_zeros(MAX_REQUEST_BYTES + 1)
        status, message = call.wait_status()
        assert call.bytes_sent < MAX_REQUEST_BYTES
        assert status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert unquote(message).startswith(f"create_stream is {MAX_REQUEST_BYTES + 1} bytes, over the")


def test_a_compressed_message_is_refused_by_name(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    with RawGrpcConnection(zerobus_server.grpc_port) as connection:
        call = connection.open_call(_metadata(zerobus_server, kit.name))
        call.send(grpc_frame(_create(kit.name, kit.descriptor), compressed=True))
        status, message = call.wait_status()
        assert status == grpc.StatusCode.UNIMPLEMENTED.value[0]
        assert "compressed messages are not supported" in unquote(message)


def test_a_request_at_the_limit_is_accepted_and_one_byte_more_is_not(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT NOT NULL, blob BINARY")
    record = kit.encode(id=1, blob=b"x")
    padding = MAX_REQUEST_BYTES - len(_batch(0, [record, b""]))
    records = [record, kit.encode(id=2, blob=bytes(padding))]
    while len(_batch(0, records)) > MAX_REQUEST_BYTES:  # varint lengths grow with the blob
        records[1] = kit.encode(id=2, blob=bytes(padding := padding - 1))
    at_limit = _batch(0, records)
    assert len(at_limit) == MAX_REQUEST_BYTES
    with RawGrpcConnection(zerobus_server.grpc_port) as connection:
        call = connection.open_call(_metadata(zerobus_server, kit.name))
        call.send(grpc_frame(_create(kit.name, kit.descriptor)))
        call.wait_message()
        call.send(grpc_frame(at_limit))
        ack = EphemeralStreamResponse.FromString(call.wait_message())
        assert ack.ingest_record_response.durability_ack_up_to_offset == 0
        call.send(grpc_frame(_batch(1, records) + b"\x00"))  # one byte over (a trailing field tag 0)
        status, message = call.wait_status()
        assert status == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert f"is {MAX_REQUEST_BYTES + 1} bytes" in unquote(message)
