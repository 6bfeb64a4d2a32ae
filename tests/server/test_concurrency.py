"""Many streams at once: creation never fails for a reason of the server's own making."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf.descriptor_pb2 import DescriptorProto

from tests.server.wire_client import ingest_token
from zerobus.protocol import (
    METHOD_PATH,
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordRequest,
    RecordTypeValue,
)
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.frames import descriptor_key

STREAMS = 200


async def _one_stream(
    channel: grpc.aio.Channel, metadata: list[tuple[str, str]], create: bytes, record: bytes
) -> int:
    """Create a stream, send one record, wait for its ack; returns the acknowledged offset."""
    method = channel.stream_stream(
        METHOD_PATH,
        request_serializer=lambda raw: raw,
        response_deserializer=EphemeralStreamResponse.FromString,
    )
    call = method(metadata=metadata)
    try:
        await call.write(create)
        created = await call.read()
        assert created.WhichOneof("payload") == "create_stream_response", created
        await call.write(record)
        ack = await call.read()
        return int(ack.ingest_record_response.durability_ack_up_to_offset)
    finally:
        call.cancel()


async def _open_all(
    server: LocalZerobusServer, table: str, descriptors: list[bytes], record: bytes
) -> list[object]:
    """Open STREAMS calls at once, taking turns over `descriptors`; each result is an ack or an error."""
    token = ingest_token(server, table)
    metadata = [("authorization", f"Bearer {token}"), ("x-databricks-zerobus-table-name", table)]
    creates = [
        EphemeralStreamRequest(
            create_stream=CreateIngestStreamRequest(
                table_name=table, record_type=RecordTypeValue.PROTO, descriptor_proto=descriptor
            )
        ).SerializeToString()
        for descriptor in descriptors
    ]
    single = EphemeralStreamRequest(
        ingest_record=IngestRecordRequest(offset_id=0, proto_encoded_record=record)
    ).SerializeToString()
    async with grpc.aio.insecure_channel(server.grpc_endpoint.removeprefix("http://")) as channel:
        return await asyncio.gather(
            *(_one_stream(channel, metadata, creates[n % len(creates)], single) for n in range(STREAMS)),
            return_exceptions=True,
        )


def _renamed(descriptor: bytes, name: str) -> bytes:
    """The same record schema under another message name: another descriptor file on disk."""
    proto = DescriptorProto.FromString(descriptor)
    proto.name = name
    return proto.SerializeToString()


@pytest.mark.parametrize("variants", [1, 2], ids=["one-descriptor", "two-descriptors"])
def test_streams_created_at_once_on_a_fresh_table_all_succeed(
    zerobus_server: LocalZerobusServer, make_table, variants: int
) -> None:
    kit = make_table("id BIGINT NOT NULL, note STRING")
    descriptors = [kit.descriptor, _renamed(kit.descriptor, "OtherName")][:variants]
    results = asyncio.run(_open_all(zerobus_server, kit.name, descriptors, kit.encode(id=1)))
    failures = [result for result in results if result != 0]
    assert not failures, f"{len(failures)} of {STREAMS} streams failed: {failures[:3]}"
    directory = zerobus_server.table_path(kit.name).parent / "descriptors"
    on_disk = {path.name: path.read_bytes() for path in directory.iterdir()}
    # Complete files, one per descriptor, and no temporary file left.
    assert on_disk == {f"{descriptor_key(d).hex()}.pb": d for d in descriptors}
    assert len(zerobus_server.rows(kit.name)) == STREAMS
