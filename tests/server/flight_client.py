"""A pyarrow.flight `DoPut` client for the server tests: the official Arrow client's messages, by hand.

Every batch goes out with ``{"offset_id": N}`` in its app_metadata (or whatever a test passes),
and every `PutResult` is decoded from its JSON, so tests see the ready signal, each ack and the
final status exactly as a client does.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pyarrow as pa
import pyarrow.flight as flight

from tests.server.wire_client import ingest_token
from zerobus.server import LocalZerobusServer

__all__ = ["FlightPut", "flight_headers"]


def flight_headers(
    server: LocalZerobusServer, table: str, token: str | None = None
) -> list[tuple[bytes, bytes]]:
    """The two headers of docs/PROTOCOL.md section 9, with a fresh ingest token unless one is given."""
    bearer = token if token is not None else ingest_token(server, table)
    return [
        (b"authorization", f"Bearer {bearer}".encode()),
        (b"x-databricks-zerobus-table-name", table.encode()),
    ]


class FlightPut:
    """One DoPut call on `server`'s gRPC port (plaintext)."""

    def __init__(
        self,
        server: LocalZerobusServer,
        schema: pa.Schema,
        headers: list[tuple[bytes, bytes]],
        compression: str | None = None,
    ) -> None:
        if getattr(server, "tls", False):  # duck-typed endpoints of a server process are plaintext
            location = f"grpc+tls://127.0.0.1:{server.grpc_port}"
            self.client = flight.connect(location, tls_root_certs=server.ca_file.read_bytes())
        else:
            self.client = flight.connect(f"grpc://127.0.0.1:{server.grpc_port}")
        write_options = pa.ipc.IpcWriteOptions(compression=compression) if compression else None
        options = flight.FlightCallOptions(headers=headers, timeout=30, write_options=write_options)
        self.writer, self.reader = self.client.do_put(
            flight.FlightDescriptor.for_path("zerobus"), schema, options
        )
        self.next_offset = 0

    def result(self) -> dict[str, int] | None:
        """The next PutResult's JSON; None once the call ended (`status()` says how)."""
        buffer = self.reader.read()
        if buffer is None:
            return None
        decoded: dict[str, int] = json.loads(buffer.to_pybytes())
        return decoded

    def send(self, batch: pa.RecordBatch, metadata: bytes | None = None) -> None:
        """Send `batch` with the next offset (or with `metadata` as its app_metadata)."""
        if metadata is None:
            metadata = json.dumps({"offset_id": self.next_offset}).encode()
            self.next_offset += 1
        self.writer.write_with_metadata(batch, metadata)

    def acks_until(self, offset: int) -> list[dict[str, int]]:
        """Read acks until one covers `offset`."""
        acks = []
        while True:
            ack = self.result()
            assert ack is not None, f"the call ended before offset {offset} was acknowledged"
            acks.append(ack)
            if ack["ack_up_to_offset"] >= offset:
                return acks

    def finish(self) -> None:
        """Half-close, read to the end and close; raises the call's error, if any."""
        self.writer.done_writing()
        while self.result() is not None:
            pass
        self.status()

    def status(self) -> None:
        """Finish the call: returns if it ended with OK, raises its error otherwise."""
        try:
            self.writer.close()
        finally:
            self.client.close()

    def close(self) -> None:
        """Drop the call whatever its state."""
        with contextlib.suppress(flight.FlightError, pa.ArrowException):
            self.writer.close()
        self.client.close()

    def error(self) -> Exception:
        """Read until the call ends; returns its error (fails the test if it ends with OK)."""
        try:
            while self.result() is not None:
                pass
            self.status()
        except (flight.FlightError, pa.ArrowException) as error:
            return error
        raise AssertionError("the call ended without an error")


def arrow_rows(schema: pa.Schema, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=schema)
