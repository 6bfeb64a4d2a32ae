"""The wire messages we build in code are exactly what protoc makes of zerobus.proto."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from zerobus import protocol
from zerobus.protocol.messages import FILE_NAME, file_descriptor_proto

PROTO_FILE = Path(protocol.__file__).parent / "zerobus.proto"


def test_runtime_descriptor_equals_protoc(tmp_path: Path) -> None:
    grpc_tools = pytest.importorskip("grpc_tools")
    from grpc_tools import protoc

    include = Path(grpc_tools.__file__).parent / "_proto"
    source = tmp_path / FILE_NAME
    source.parent.mkdir(parents=True)
    source.write_text(PROTO_FILE.read_text())
    out = tmp_path / "out.pb"
    code = protoc.main(
        ["protoc", f"-I{tmp_path}", f"-I{include}", f"--descriptor_set_out={out}", str(source)]
    )
    assert code == 0
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    assert compiled == file_descriptor_proto()


def test_messages_round_trip() -> None:
    request = protocol.EphemeralStreamRequest(
        ingest_record_batch=protocol.IngestRecordBatchRequest(
            offset_id=7, json_batch=protocol.JsonRecordBatch(records=['{"a": 1}', '{"a": 2}'])
        )
    )
    decoded = protocol.EphemeralStreamRequest.FromString(request.SerializeToString())
    assert decoded.WhichOneof("payload") == "ingest_record_batch"
    assert decoded.ingest_record_batch.offset_id == 7
    assert list(decoded.ingest_record_batch.json_batch.records) == ['{"a": 1}', '{"a": 2}']

    response = protocol.EphemeralStreamResponse(close_stream_signal=protocol.CloseStreamSignal())
    response.close_stream_signal.duration.FromMilliseconds(1500)
    decoded_response = protocol.EphemeralStreamResponse.FromString(response.SerializeToString())
    assert decoded_response.close_stream_signal.duration.ToMilliseconds() == 1500


def test_record_type_values_match_enum() -> None:
    field = protocol.CreateIngestStreamRequest.DESCRIPTOR.fields_by_name["record_type"]
    values = {v.name: v.number for v in field.enum_type.values}
    assert values == {
        "RECORD_TYPE_UNSPECIFIED": protocol.RecordTypeValue.UNSPECIFIED,
        "PROTO": protocol.RecordTypeValue.PROTO,
        "JSON": protocol.RecordTypeValue.JSON,
    }
