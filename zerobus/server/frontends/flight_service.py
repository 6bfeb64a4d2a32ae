"""Internal: Arrow Flight `DoPut` ingestion (docs/PROTOCOL.md section 9), on the Zerobus gRPC port.

A `DoPut` call is a Zerobus stream carrying Arrow record batches instead of records. It shares
everything with `EphemeralStream` calls except the messages: `FlightPutCall` is a `StreamCall`
whose setup reads the Arrow schema instead of `create_stream`, whose requests are `FlightData`
batches, and whose acks are `PutResult`s. Authentication, grants, the table lookup and the
schema check are the decision core's (`decisions`, as for every front-end); the size limit,
sequential offsets, the durable log with group commit, fault injection and the final status are
the stream call's own code.

Setup: the table comes from the `x-databricks-zerobus-table-name` header (authoritative), the
token from `authorization`; the first `FlightData` must be the schema message, and a schema the
table cannot take ends the call with INVALID_ARGUMENT naming the column, before the ready signal
`{"ack_up_to_offset": -1, "ack_up_to_records": 0}`. Then each batch carries
``{"offset_id": N}`` in `app_metadata`; acks are cumulative
``{"ack_up_to_offset": N, "ack_up_to_records": M}``.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpclib.const import Cardinality, Handler

from zerobus.protocol.flight import (
    ACK_UP_TO_OFFSET,
    ACK_UP_TO_RECORDS,
    DO_PUT_PATH,
    OFFSET_ID,
    FlightData,
    PutResult,
)
from zerobus.server.decisions import Refusal, check_arrow_stream_schema, ingest_table
from zerobus.server.faults import CallEnding
from zerobus.server.frontends.stream_call import StreamCall
from zerobus.server.frontends.stream_registry import StreamRegistry
from zerobus.server.frontends.stream_state import INVALID_RECORD_ERROR, LIFETIME_ERROR
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.arrow_ipc import ARROW_PREFIX, ipc_message_parts
from zerobus.server.storage.log import LogClosed
from zerobus.server.validation.arrow_batches import BatchRejected, check_batch

__all__ = ["READY_SIGNAL", "FlightIngestService", "FlightPutCall"]

READY_SIGNAL = {ACK_UP_TO_OFFSET: -1, ACK_UP_TO_RECORDS: 0}


class FlightPutCall(StreamCall):
    """One `DoPut` call, from the schema message to its final status."""

    def __init__(self, stream: Any, core: ServerCore, registry: StreamRegistry) -> None:
        super().__init__(stream, core, registry)
        self._arrow_schema: Any = None  # the stream's pyarrow.Schema
        self._schema_message = b""  # its IPC message, the head of every log frame
        self._records_through: list[int] = []  # records of the call up to each offset

    # --- setup ------------------------------------------------------------------------------------

    async def _create(self, raw: bytes) -> tuple[Any, bytes]:
        import pyarrow as pa

        core = self.core
        core.stats.create_stream_requests += 1
        failure = core.faults.take_create_failure()
        if failure is not None:
            raise self._reject(failure.code, failure.message)
        try:
            table = ingest_table(core, self.stream.metadata or {})
        except Refusal as refusal:
            raise self._refuse(refusal) from None
        try:
            data = FlightData.FromString(raw)
            message_parts = ipc_message_parts(data.data_header, data.data_body)
            message = pa.ipc.read_message(pa.py_buffer(b"".join(message_parts)))
        except (DecodeError, pa.ArrowException, EOFError, OSError) as error:
            raise self._reject(
                grpc.StatusCode.INVALID_ARGUMENT, f"the first FlightData is not an Arrow IPC message: {error}"
            ) from None
        if message.type != "schema":
            raise self._reject(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the first FlightData of a DoPut must carry the Arrow schema, got a {message.type} message",
            )
        try:
            schema = pa.ipc.read_schema(message)
            check_arrow_stream_schema(table, schema)
        except Refusal as refusal:
            raise self._refuse(refusal) from None
        except pa.ArrowException as error:
            raise self._reject(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Arrow schema incompatible with table '{table.entry.full_name}': {error}",
            ) from None
        self._arrow_schema = schema
        self._schema_message = b"".join(ipc_message_parts(data.data_header, b""))  # a schema has no body
        self._accept(table)
        await self.stream.send_message(_put_result(READY_SIGNAL))
        self._arm_lifetime()
        return None, ARROW_PREFIX

    # --- batches ----------------------------------------------------------------------------------

    def _handle(self, raw: bytes, codec: Any, prefix: bytes) -> None:
        import pyarrow as pa

        try:
            data = FlightData.FromString(raw)
        except DecodeError as error:
            self._fail(grpc.StatusCode.INVALID_ARGUMENT, f"malformed FlightData: {error}")
        offset = self._offset_of(data.app_metadata)
        if offset != self._expected_offset:
            what = "a gap" if offset > self._expected_offset else "a duplicate or out-of-order offset"
            self._fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"offset_id {offset} is {what}: expected {self._expected_offset} (offsets start at 0 on every "
                "call and grow by 1 per batch)",
            )
        head = prefix + self._schema_message
        payload = b"".join([head, *ipc_message_parts(data.data_header, data.data_body)])
        try:
            message = pa.ipc.read_message(pa.py_buffer(payload).slice(len(head)))
            if message.type != "record batch":
                self._fail(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"FlightData at offset {offset} carries a {message.type} message; only record batches "
                    "may follow the schema (no dictionary encoding, no schema change)",
                )
            body_size = message.body.size if message.body is not None else 0
            if body_size != len(data.data_body):
                # Bytes beyond the body would be stored and read back as another message.
                self._fail(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"FlightData at offset {offset} has a {len(data.data_body)}-byte body, but its header "
                    f"says {body_size} bytes",
                )
            batch = pa.ipc.read_record_batch(message, self._arrow_schema)
        except (pa.ArrowException, EOFError, OSError) as error:
            self._fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"FlightData at offset {offset} is not a valid record batch: {error}",
            )
        self._expected_offset = offset + 1
        count = batch.num_rows
        stats = self.core.stats
        stats.requests_received += 1
        stats.records_received += count
        stats.bytes_received += len(raw)
        ending = None
        if self.core.faults.call_faults_armed:
            ending = self.core.faults.check_records(self.id, self._received, count)
        self._received += count
        if ending is not None and not ending.store:
            self._stop_after(self._last_seq, ending)
        assert self.table is not None
        try:
            check_batch(self.table.entry.schema, batch)
        except BatchRejected as rejected:
            self._fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{INVALID_RECORD_ERROR}: batch at offset {offset}, row {rejected.row}: {rejected.error}",
            )
        try:
            seq = self.table.log.append(payload)
        except LogClosed:
            self._fail(grpc.StatusCode.NOT_FOUND, f"table '{self.table.entry.full_name}' was dropped")
        stats.records_stored += count
        previous = self._records_through[-1] if self._records_through else 0
        self._records_through.append(previous + count)
        self._last_seq = seq
        if ending is not None:
            self._stop_after(seq, ending)
        self._pending.append((seq, offset))
        if self._pacer is not None:  # the stream rate limits pace Arrow acks like record acks
            self._pacer.add(offset, count, len(raw))

    def _offset_of(self, app_metadata: bytes) -> int:
        """The batch's `offset_id` from its `{"offset_id": N}` app_metadata."""
        expected = self._expected_offset
        try:
            offset = json.loads(app_metadata)[OFFSET_ID] if app_metadata else None
        except (ValueError, TypeError, KeyError):
            offset = None
        if isinstance(offset, bool) or not isinstance(offset, int):
            shown = app_metadata[:80].decode("utf-8", "replace")
            self._fail(
                grpc.StatusCode.INVALID_ARGUMENT,
                f'batch expected at offset {expected}: app_metadata must be JSON {{"offset_id": <int>}}, '
                f"got {shown!r}",
            )
        return offset

    # --- acks and the end -------------------------------------------------------------------------

    def _ack_message(self, ack_to: int) -> bytes:
        return _put_result({ACK_UP_TO_OFFSET: ack_to, ACK_UP_TO_RECORDS: self._records_through[ack_to]})

    def signal_close(self, duration_s: float) -> None:
        """Flight has no close signal: the call just ends with the retryable 6002 after `duration_s`."""
        self._timers.append(
            self.loop.call_later(
                duration_s,
                self._end_immediately,
                CallEnding(grpc.StatusCode.UNAVAILABLE, LIFETIME_ERROR, False),
            )
        )


def _put_result(ack: dict[str, int]) -> bytes:
    data: bytes = PutResult(app_metadata=json.dumps(ack).encode()).SerializeToString()
    return data


class FlightIngestService:
    """The grpclib handler mapping for Flight's `DoPut` (other Flight methods: UNIMPLEMENTED)."""

    def __init__(self, core: ServerCore, registry: StreamRegistry) -> None:
        self.core = core
        self.registry = registry

    def __mapping__(self) -> dict[str, Handler]:
        return {DO_PUT_PATH: Handler(self.do_put, Cardinality.STREAM_STREAM, bytes, bytes)}

    async def do_put(self, stream: Any) -> None:
        self.core.stats.stream_calls += 1
        await stream.send_initial_metadata()
        await FlightPutCall(stream, self.core, self.registry).run()
