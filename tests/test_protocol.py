"""The wire messages we build in code are exactly what protoc makes of zerobus.proto."""

from __future__ import annotations

import ast
import re
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
        "AVRO": protocol.RecordTypeValue.AVRO,
    }


# Wire constants spelled once, in zerobus.protocol: a copy anywhere else drifts apart unnoticed.
_WIRE_LITERALS = (
    "x-databricks-zerobus-table-name",
    "x-zerobus-sdk",
    "/oidc/v1/token",
    "zerobusDirectWriteApi",
    "/api/2.1/unity-catalog/tables",
    "unity_catalog_privileges",
    "urn:ietf:params:oauth:",
    "databricks.zerobus.Zerobus/",
    "FlightService/DoPut",
)
# Whole strings that are wire names only where they are these keys (Flight app_metadata JSON).
_WIRE_KEYS = frozenset({"offset_id", "ack_up_to_offset", "ack_up_to_records"})
_ERROR_CODE_TEXT = re.compile(r"Error code ")
_PACKAGE_ROOT = Path(protocol.__file__).parent.parent
_CHECKED_TREES = (_PACKAGE_ROOT, _PACKAGE_ROOT.parent / "codegen")


def _docstrings(tree: ast.AST) -> set[int]:
    """Ids of the docstring nodes (prose may name a constant; code must import it)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _copies_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    copies = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            value = node.value
            if isinstance(value, str):
                copies += [f"{where}: {literal!r}" for literal in _WIRE_LITERALS if literal in value]
                if value in _WIRE_KEYS:
                    copies.append(f"{where}: {value!r} (use zerobus.protocol.flight's key)")
                if _ERROR_CODE_TEXT.search(value):
                    copies.append(f"{where}: an 'Error code N' text (use protocol.constants.error_code_text)")
            elif type(value) is int and value == 10 * 1024 * 1024:
                copies.append(f"{where}: the request size limit (use protocol.constants.MAX_REQUEST_BYTES)")
        elif isinstance(node, ast.BinOp) and ast.unparse(node) == "10 * 1024 * 1024":
            copies.append(f"{where}: the request size limit (use protocol.constants.MAX_REQUEST_BYTES)")
        elif (
            isinstance(node, ast.Compare)
            and "record_type" in ast.unparse(node.left)
            and any(isinstance(c, ast.Constant) and type(c.value) is int for c in node.comparators)
        ):
            copies.append(f"{where}: a bare record type number (use protocol.RecordTypeValue)")
    return copies


def test_wire_constants_are_defined_once_in_zerobus_protocol() -> None:
    protocol_dir = Path(protocol.__file__).parent
    copies = [
        copy
        for tree in _CHECKED_TREES
        for path in sorted(tree.rglob("*.py"))
        if protocol_dir not in path.parents
        for copy in _copies_in(path)
    ]
    assert copies == []
