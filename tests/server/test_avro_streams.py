"""AVRO streams at the server: the writer schema persists with the log, so frames decode after a restart."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import grpc

from tests.server.wire_client import open_stream
from zerobus.protocol import (
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    IngestRecordRequest,
    RecordTypeValue,
)
from zerobus.sdk.sync import TableProperties, ZerobusSdk
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.frames import KIND_AVRO

COLUMNS = "id BIGINT NOT NULL, day DATE, amount DECIMAL(6,2)"


def test_avro_frames_decode_from_the_persisted_writer_schema(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path, materialize_delay_s=3600) as server:
        schema = server.create_table("main.default.avro", COLUMNS)
        sdk = ZerobusSdk(server.grpc_endpoint, server.workspace_url)
        properties = TableProperties("main.default.avro", avro_schema=schema.avro_schema())
        with sdk.create_stream(server.client_id, server.client_secret, properties) as stream:
            stream.ingest_record_offset({"id": 1, "day": dt.date(2024, 5, 6), "amount": "-1.5"})
            stream.ingest_records_offset([{"id": 2}, {"id": 3, "amount": decimal.Decimal("9999.99")}])
        sdk.close()
        table = server.core.table("main.default.avro")
        # What a restarted server holds: no codec in memory, only the schema file beside the log.
        assert [kind for kind, _key in table._codecs] == [KIND_AVRO]
        table._codecs.clear()
        server.flush_materialization()
        rows = sorted(server.rows("main.default.avro"), key=lambda row: row["id"])
    assert rows == [
        {"id": 1, "day": dt.date(2024, 5, 6), "amount": decimal.Decimal("-1.50")},
        {"id": 2, "day": None, "amount": None},
        {"id": 3, "day": None, "amount": decimal.Decimal("9999.99")},
    ]


def _avro_create(table: str, schema_text: str) -> EphemeralStreamRequest:
    create = CreateIngestStreamRequest(
        table_name=table, record_type=RecordTypeValue.AVRO, avro_schema=schema_text
    )
    return EphemeralStreamRequest(create_stream=create)


def test_records_in_another_format_than_the_stream_are_refused(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    schema_text = zerobus_server.table_schema(table).avro_schema()
    with open_stream(zerobus_server, table, create=False) as stream:
        stream.send(_avro_create(table, schema_text))
        stream.wait_created()
        stream.record(0, b"\x02")  # proto_encoded_record on an AVRO stream
        assert stream.wait_done() is not None
        assert stream.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert (
            "carries proto_encoded_record, but the stream was created for AVRO records" in stream.error_text()
        )
    with open_stream(zerobus_server, table, json=True) as stream:
        stream.wait_created()
        single = IngestRecordRequest(offset_id=0, avro_encoded_record=b"\x02")
        stream.send(EphemeralStreamRequest(ingest_record=single))
        assert stream.wait_done() is not None
        assert (
            "carries avro_encoded_record, but the stream was created for JSON records" in stream.error_text()
        )
    assert zerobus_server.rows(table) == []


def test_an_avro_stream_without_a_schema_is_refused_at_creation(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    with open_stream(zerobus_server, table, create=False) as stream:
        stream.send(_avro_create(table, ""))
        assert stream.wait_done() is not None
        assert stream.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "an AVRO stream needs avro_schema" in stream.error_text()
