"""End to end on the local server: `zerobus-codegen table` fetches a table created there, and the
generated model's records (PROTO and JSON) are accepted and land in the Delta table with the
right values: dates, timestamps, decimals, nested structs, arrays and maps.

Records travel over a tiny raw gRPC client (create_stream, then one ingest_record_batch), so
the test checks exactly what the generated code produces, independent of the SDK.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from tests.codegen.codegen_support import import_file, protoc_file, without_empty_containers
from zerobus.codegen import ZerobusModel, descriptor_proto, schema_from_ddl
from zerobus.endpoints import parse_endpoint, parse_table_name
from zerobus.oauth import fetch_ingest_token
from zerobus.protocol import (
    METHOD_PATH,
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordBatchRequest,
    JsonRecordBatch,
    ProtoEncodedRecordBatch,
    RecordTypeValue,
)

if TYPE_CHECKING:
    from zerobus.server import LocalZerobusServer

UTC = dt.timezone.utc
COLUMNS = """
    id BIGINT NOT NULL COMMENT 'Reading id',
    day DATE,
    at TIMESTAMP NOT NULL,
    wall TIMESTAMP_NTZ,
    amount DECIMAL(10,2),
    ratio DOUBLE,
    small TINYINT,
    ok BOOLEAN,
    code VARCHAR(8),
    raw BINARY,
    doc VARIANT,
    tags ARRAY<STRING>,
    counts MAP<STRING, INT>,
    device STRUCT<
        serial: STRING NOT NULL,
        location: STRUCT<lat: DOUBLE, lon: DOUBLE>,
        readings: ARRAY<STRUCT<at: TIMESTAMP, value: DECIMAL(6,3)>>,
        limits: MAP<INT, STRUCT<lo: FLOAT, hi: FLOAT>>
    >
"""

ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "day": dt.date(2024, 2, 29),
        "at": dt.datetime(2024, 2, 29, 23, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "wall": dt.datetime(2024, 3, 1, 4, 30, 15, 5),
        "amount": Decimal("-12345678.90"),
        "ratio": 0.1,
        "small": -128,
        "ok": True,
        "code": "ABC-123",
        "raw": b"\x00\x01\xfe\xff",
        "doc": {"sensor": "t1", "values": [1, 2.5, None], "ok": True},
        "tags": ["a", "b", "ü"],
        "counts": {"x": 1, "y": -2},
        "device": {
            "serial": "SN-1",
            "location": {"lat": 52.52, "lon": 13.405},
            "readings": [
                {"at": dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), "value": Decimal("1.5")},
                {"at": None, "value": Decimal("-999.999")},
            ],
            "limits": {1: {"lo": -1.5, "hi": 2.25}, -7: {"lo": None, "hi": 0.0}},
        },
    },
    {
        "id": 2,
        "day": dt.date(1969, 7, 20),
        "at": dt.datetime(1970, 1, 1, tzinfo=UTC),
        "amount": Decimal("0.01"),
        "device": {"serial": "SN-2", "readings": [], "limits": {}},
    },
    {"id": 3, "at": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "doc": '"plain JSON text"'},
]


def _send(
    server: LocalZerobusServer, table: str, create: CreateIngestStreamRequest, batch: IngestRecordBatchRequest
) -> int:
    """Open a stream, send one batch, return the acknowledged offset (the call is then cancelled)."""
    token = fetch_ingest_token(
        server.workspace_url,
        server.grpc_endpoint,
        parse_table_name(table),
        server.client_id,
        server.client_secret,
    )
    channel = grpc.insecure_channel(parse_endpoint(server.grpc_endpoint).target)
    acknowledged = threading.Event()

    def requests() -> Iterator[EphemeralStreamRequest]:
        yield EphemeralStreamRequest(create_stream=create)
        yield EphemeralStreamRequest(ingest_record_batch=batch)
        acknowledged.wait(30)  # the protocol has no close message: keep the call open until acked

    call = channel.stream_stream(
        METHOD_PATH,
        request_serializer=EphemeralStreamRequest.SerializeToString,
        response_deserializer=EphemeralStreamResponse.FromString,
    )(requests(), metadata=[("authorization", f"Bearer {token}"), ("x-databricks-zerobus-table-name", table)])
    offset = -1
    try:
        for response in call:
            if response.WhichOneof("payload") == "ingest_record_response":
                offset = response.ingest_record_response.durability_ack_up_to_offset
                break
    finally:
        acknowledged.set()
        call.cancel()
        channel.close()
    return offset


def _generate(server: LocalZerobusServer, table: str, out_dir: Path) -> type[ZerobusModel]:
    """Run the real `zerobus-codegen table` command and import the model it writes."""
    script = Path(sys.executable).with_name("zerobus-codegen")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "zerobus.codegen.cli"]
    env = {
        **os.environ,
        "DATABRICKS_HOST": server.workspace_url,
        "DATABRICKS_CLIENT_ID": server.client_id,
        "DATABRICKS_CLIENT_SECRET": server.client_secret,
    }
    result = subprocess.run(
        [*command, "table", table, "--out-dir", str(out_dir), "--descriptor-set"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    short = table.rsplit(".", 1)[1]
    module = import_file(out_dir / f"{short}_model.py", f"e2e_{short}_model")
    (model,) = [
        cls
        for name in module.__all__
        if isinstance(cls := getattr(module, name), type) and issubclass(cls, ZerobusModel)
    ]
    return model


def _stored(server: LocalZerobusServer, table: str, model: type[ZerobusModel]) -> list[dict[str, Any]]:
    """The Delta rows, read back as wire values through the same model (sorted by id)."""
    rows = sorted(server.rows(table), key=lambda row: row["id"])
    return [model.model_validate(row).to_wire() for row in rows]


def _expected(model: type[ZerobusModel]) -> list[dict[str, Any]]:
    return [model.model_validate(row).to_wire() for row in ROWS]


@pytest.fixture
def generated(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> tuple[str, type[ZerobusModel], Path]:
    table = zerobus_table(COLUMNS)
    return table, _generate(zerobus_server, table, tmp_path), tmp_path


def test_generated_files_describe_the_server_table(
    zerobus_server: LocalZerobusServer, generated: tuple[str, type[ZerobusModel], Path]
) -> None:
    table, model, out_dir = generated
    schema = zerobus_server.table_schema(table)
    assert model.zerobus_schema() == schema == schema_from_ddl(COLUMNS, table)
    short = table.rsplit(".", 1)[1]
    compiled = protoc_file((out_dir / f"{short}.proto").read_text(), "check.proto", out_dir)
    assert compiled.message_type[0] == descriptor_proto(schema)
    assert model.model_fields["id"].description == "Reading id"


def test_proto_records_from_the_generated_model_land_in_delta(
    zerobus_server: LocalZerobusServer, generated: tuple[str, type[ZerobusModel], Path]
) -> None:
    table, model, _ = generated
    records = [model.model_validate(row) for row in ROWS]
    create = CreateIngestStreamRequest(
        table_name=table,
        record_type=RecordTypeValue.PROTO,
        descriptor_proto=model.descriptor_proto().SerializeToString(),
    )
    batch = IngestRecordBatchRequest(
        offset_id=0,
        proto_encoded_batch=ProtoEncodedRecordBatch(records=[r.to_proto_bytes() for r in records]),
    )
    assert _send(zerobus_server, table, create, batch) == 0
    schema = model.zerobus_schema()
    stored = [without_empty_containers(schema, row) for row in _stored(zerobus_server, table, model)]
    assert stored == [without_empty_containers(schema, row) for row in _expected(model)]
    # The values themselves, as Delta holds them.
    first = sorted(zerobus_server.rows(table), key=lambda row: row["id"])[0]
    assert first["day"] == dt.date(2024, 2, 29)
    assert first["at"] == dt.datetime(2024, 3, 1, 4, 30, 15, 123456, tzinfo=UTC)
    assert first["wall"] == dt.datetime(2024, 3, 1, 4, 30, 15, 5)
    assert first["amount"] == Decimal("-12345678.90")
    assert first["raw"] == b"\x00\x01\xfe\xff"
    assert first["device"]["readings"][1]["value"] == Decimal("-999.999")
    assert first["device"]["readings"][0]["at"] == dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert first["device"]["limits"] == {1: {"lo": -1.5, "hi": 2.25}, -7: {"lo": None, "hi": 0.0}}
    assert first["counts"] == {"x": 1, "y": -2}


def test_json_records_from_the_generated_model_land_in_delta(
    zerobus_server: LocalZerobusServer, generated: tuple[str, type[ZerobusModel], Path]
) -> None:
    table, model, _ = generated
    records = [model.model_validate(row).to_json() for row in ROWS]
    create = CreateIngestStreamRequest(table_name=table, record_type=RecordTypeValue.JSON)
    batch = IngestRecordBatchRequest(offset_id=0, json_batch=JsonRecordBatch(records=records))
    assert _send(zerobus_server, table, create, batch) == 0
    assert _stored(zerobus_server, table, model) == _expected(model)


def test_the_sdk_ingests_generated_models(
    zerobus_server: LocalZerobusServer, generated: tuple[str, type[ZerobusModel], Path]
) -> None:
    from zerobus.sdk.sync import TableProperties, ZerobusSdk

    table, model, _ = generated
    records = [model.model_validate(row) for row in ROWS]
    with ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url) as sdk:
        stream = sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table, model)
        )
        for record in records:
            stream.ingest_record_nowait(record)
        stream.close()
    schema = model.zerobus_schema()
    stored = [without_empty_containers(schema, row) for row in _stored(zerobus_server, table, model)]
    assert stored == [without_empty_containers(schema, row) for row in _expected(model)]
