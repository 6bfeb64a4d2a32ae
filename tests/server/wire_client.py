"""A minimal gRPC client for the server tests: raw EphemeralStream calls, nothing hidden.

The SDK is written separately, so these tests speak the wire protocol directly with grpcio:
send any request (also malformed ones), and watch every response, ack and the final status.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import requests

from zerobus.endpoints import parse_table_name
from zerobus.oauth import ingest_token_form, metadata_token_form
from zerobus.protocol import (
    METHOD_PATH,
    CreateIngestStreamRequest,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordBatchRequest,
    IngestRecordRequest,
    JsonRecordBatch,
    ProtoEncodedRecordBatch,
    RecordTypeValue,
)
from zerobus.server import LocalZerobusServer

_END = object()


def get_token(
    server: LocalZerobusServer,
    table: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    ingest: bool = True,
) -> requests.Response:
    """POST the token form exactly as the SDKs do; returns the raw response."""
    form = ingest_token_form(parse_table_name(table), "1234567890123456") if ingest else metadata_token_form()
    return requests.post(
        server.workspace_url + "/oidc/v1/token",
        data=form,
        auth=(client_id or server.client_id, client_secret or server.client_secret),
        timeout=10,
    )


def ingest_token(server: LocalZerobusServer, table: str, **kwargs: Any) -> str:
    response = get_token(server, table, **kwargs)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class WireStream:
    """One EphemeralStream call. Responses are collected by a background thread."""

    def __init__(self, server: LocalZerobusServer, metadata: list[tuple[str, str]]) -> None:
        self._channel = grpc.insecure_channel(server.grpc_endpoint.removeprefix("http://"))
        self._requests: queue.Queue[Any] = queue.Queue()
        self.responses: list[Any] = []
        self._condition = threading.Condition()
        self.error: grpc.RpcError | None = None
        self.done = False
        method = self._channel.stream_stream(
            METHOD_PATH,
            request_serializer=lambda raw: raw,
            response_deserializer=EphemeralStreamResponse.FromString,
        )
        self._call = method(self._iterate(), metadata=metadata)
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _iterate(self) -> Iterator[bytes]:
        while True:
            item = self._requests.get()
            if item is _END:
                return
            yield item

    def _receive(self) -> None:
        try:
            for response in self._call:
                with self._condition:
                    self.responses.append(response)
                    self._condition.notify_all()
        except grpc.RpcError as error:
            self.error = error
        with self._condition:
            self.done = True
            self._condition.notify_all()

    # --- sending -----------------------------------------------------------------------------

    def send_raw(self, raw: bytes) -> None:
        self._requests.put(raw)

    def send(self, request: Any) -> None:
        self.send_raw(request.SerializeToString())

    def create(self, table: str, descriptor: bytes | None = None, json: bool = False) -> None:
        create = CreateIngestStreamRequest(
            table_name=table, record_type=RecordTypeValue.JSON if json else RecordTypeValue.PROTO
        )
        if descriptor is not None:
            create.descriptor_proto = descriptor
        self.send(EphemeralStreamRequest(create_stream=create))

    def record(self, offset: int, record: bytes | str) -> None:
        single = IngestRecordRequest(offset_id=offset)
        if isinstance(record, str):
            single.json_record = record
        else:
            single.proto_encoded_record = record
        self.send(EphemeralStreamRequest(ingest_record=single))

    def batch(self, offset: int, records: list[bytes] | list[str]) -> None:
        batch = IngestRecordBatchRequest(offset_id=offset)
        if records and isinstance(records[0], str):
            batch.json_batch.CopyFrom(JsonRecordBatch(records=records))
        else:
            batch.proto_encoded_batch.CopyFrom(ProtoEncodedRecordBatch(records=records))
        self.send(EphemeralStreamRequest(ingest_record_batch=batch))

    def half_close(self) -> None:
        self._requests.put(_END)

    def cancel(self) -> None:
        self._call.cancel()
        self._requests.put(_END)
        self._thread.join(10)
        self._channel.close()

    # --- waiting -----------------------------------------------------------------------------

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
            return True

    @property
    def stream_id(self) -> str | None:
        for response in self.responses:
            if response.WhichOneof("payload") == "create_stream_response":
                return str(response.create_stream_response.stream_id)
        return None

    def wait_created(self, timeout: float = 10.0) -> str:
        assert self.wait_for(lambda: self.stream_id is not None or self.done, timeout), (
            "no create_stream_response"
        )
        assert self.stream_id is not None, f"stream not created: {self.error_text()}"
        return self.stream_id

    @property
    def acked(self) -> int:
        acks = [
            r.ingest_record_response.durability_ack_up_to_offset
            for r in self.responses
            if r.WhichOneof("payload") == "ingest_record_response"
        ]
        return max(acks, default=-1)

    def wait_acked(self, offset: int, timeout: float = 10.0) -> bool:
        return self.wait_for(lambda: self.acked >= offset or self.done, timeout) and self.acked >= offset

    def wait_done(self, timeout: float = 10.0) -> grpc.RpcError | None:
        assert self.wait_for(lambda: self.done, timeout), "call did not end"
        return self.error

    def close_signals(self) -> list[Any]:
        return [
            r.close_stream_signal for r in self.responses if r.WhichOneof("payload") == "close_stream_signal"
        ]

    def code(self) -> grpc.StatusCode | None:
        return self.error.code() if self.error is not None else None

    def error_text(self) -> str:
        if self.error is None:
            return ""
        return f"{self.error.code()}: {self.error.details()}"

    def __enter__(self) -> WireStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def open_stream(
    server: LocalZerobusServer,
    table: str,
    descriptor: bytes | None = None,
    json: bool = False,
    token: str | None = None,
    header_table: str | None = None,
    create: bool = True,
) -> WireStream:
    """An authorised call with create_stream sent (not yet confirmed: use `wait_created`)."""
    if token is None:
        token = ingest_token(server, table)
    metadata = [
        ("authorization", f"Bearer {token}"),
        ("x-databricks-zerobus-table-name", header_table or table),
    ]
    stream = WireStream(server, metadata)
    if create:
        stream.create(table, descriptor, json)
    return stream
