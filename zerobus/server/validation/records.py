"""Internal: Decode and check records: proto bytes or JSON text -> a row of wire values (a dict).

A `StreamRecordCodec` is compiled once per stream (PROTO: from the checked descriptor; JSON: from the
table alone). The stream handler decodes each request with `parse_request` and checks its
records with `check` (one record) or `check_batch` (a batch message); the materializer turns
stored records into rows with `stored_records` and `to_row`. Errors are `InvalidRecordError`s
naming the column path, the value and the reason; `RecordRejected` adds the record's index in
its batch.

PROTO batches take a fast path (see `typed_requests` and `message_checks`): the typed request
decodes every record in one call, one `IsInitialized` covers the `required` fields, and the
batch check runs only the checks the column types need. Whenever that path cannot say yes (a
malformed record, a missing field, a bad value), the reference path decodes and checks record
by record, which finds the first bad record and words the error; if it finds none, the batch is
accepted. So the fast path can only ever be faster, never stricter or looser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from zerobus.errors import InvalidRecordError
from zerobus.json_depth import check_json_text_depth
from zerobus.protocol import EphemeralStreamRequest
from zerobus.schema.descriptor import message_reader
from zerobus.schema.ir import Column, TableSchema
from zerobus.schema.unicode_text import text_problem
from zerobus.schema.wire_checks import wire_row_check
from zerobus.server.frontends.typed_requests import typed_requests
from zerobus.server.validation.json_checks import json_batch_check, loads
from zerobus.server.validation.message_checks import batch_check
from zerobus.server.validation.schema_check import CompiledDescriptor
from zerobus.server.validation.undecodable_keys import undecodable_map_path

__all__ = ["JsonRecordCodec", "ProtoRecordCodec", "RecordRejected", "StreamRecordCodec"]

_F = descriptor_pb2.FieldDescriptorProto


class RecordRejected(Exception):
    """Record `index` of a batch is invalid: `error` says where and why."""

    def __init__(self, index: int, error: InvalidRecordError) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


class StreamRecordCodec:
    """Interface: how the server reads one stream's records (decode requests, check records, turn
    stored records into wire rows). Not `zerobus.codegen.RecordCodec`, the client's row encoder."""

    json_mode: bool = False
    # The oneof fields this stream's records travel in, and the format's name for errors.
    record_field = "proto_encoded_record"
    batch_field = "proto_encoded_batch"
    format_name = "PROTO"

    def parse_request(self, raw: bytes) -> Any:
        """The `EphemeralStreamRequest` in `raw`; raises `DecodeError` if it is malformed."""
        return EphemeralStreamRequest.FromString(raw)

    def check(self, payload: Any) -> None:
        """Check one record (bytes or text); raises `InvalidRecordError`."""
        raise NotImplementedError

    def reference_check(self, payload: Any) -> None:
        """The record-by-record check every faster path must agree with (errors are worded here)."""
        raise NotImplementedError

    def check_batch(self, batch: Any) -> None:
        """Check every record of a batch message (from `parse_request`); raises `RecordRejected`."""
        check = self.check
        for index, payload in enumerate(batch.records):
            try:
                check(payload)
            except InvalidRecordError as error:
                raise RecordRejected(index, error) from None

    def stored_records(self, request: bytes) -> list[Any]:
        """The records of a stored (already accepted) request, in order, for `to_row`."""
        parsed = EphemeralStreamRequest.FromString(request)
        if parsed.WhichOneof("payload") == "ingest_record":
            return [getattr(parsed.ingest_record, self.record_field)]
        return list(getattr(parsed.ingest_record_batch, self.batch_field).records)

    def to_row(self, record: Any) -> dict[str, Any]:
        """A record from `stored_records` as a wire row."""
        raise NotImplementedError


class JsonRecordCodec(StreamRecordCodec):
    """JSON records: an object whose keys are column names and values per docs/PROTOCOL.md section 7.

    Batches are parsed with `json_checks.loads` and checked column by column
    (`json_batch_check`); the reference check runs record by record only when that says no.
    """

    json_mode = True
    record_field = "json_record"
    batch_field = "json_batch"
    format_name = "JSON"

    def __init__(self, schema: TableSchema) -> None:
        check = wire_row_check(schema, json_mode=True)
        assert check is not None  # JSON rows are always checked: JSON text carries no types
        self._check = check
        self._batch_check = json_batch_check(schema)

    def to_row(self, record: Any) -> dict[str, Any]:
        if not isinstance(record, str):
            # upb hands back bytes for a proto2 string field that is not UTF-8.
            raise InvalidRecordError("", _short(record), _not_json_text(record))
        try:
            check_json_text_depth(record)  # before the recursive parser can hit the recursion limit
            row = loads(record)
        except ValueError as error:  # JsonTooDeep included
            raise InvalidRecordError("", _short(record), f"not valid JSON: {error}") from None
        if not isinstance(row, dict):
            raise InvalidRecordError(
                "", _short(record), f"a JSON record must be an object, got {type(row).__name__}"
            )
        return row

    def check(self, payload: Any) -> None:
        # One row: the reference check is cheaper than the column passes' set-up.
        self.reference_check(payload)

    def reference_check(self, payload: Any) -> None:
        _checked(self._check, self.to_row(payload))

    def check_batch(self, batch: Any) -> None:
        try:
            for record in batch.records:
                check_json_text_depth(record)
            rows = list(map(loads, batch.records))
        except (ValueError, TypeError):
            rows = None  # a record that is not JSON (or not UTF-8: bytes): the reference path names it
        if rows is None or not self._batch_check(rows):
            super().check_batch(batch)


class ProtoRecordCodec(StreamRecordCodec):
    """Proto records decoded with the stream's own descriptor (field numbers are the client's)."""

    def __init__(self, schema: TableSchema, compiled: CompiledDescriptor) -> None:
        self._from_string = compiled.message_class.FromString
        self._has_required = bool(compiled.required_fields) or _has_nested_required(compiled.message_proto)
        # NOT NULL columns declared `required` are enforced by the decoder itself.
        relaxed = TableSchema(
            schema.name,
            tuple(
                Column(c.name, c.type, True, c.comment, c.position)
                if _declared(c, compiled.required_fields)
                else c
                for c in schema.columns
            ),
        )
        self._row_check = wire_row_check(relaxed, json_mode=False)
        self._to_dict = message_reader(compiled.descriptor, schema.as_struct())
        self._batch_check = batch_check(compiled.descriptor, schema.as_struct(), compiled.required_fields)
        typed = typed_requests(compiled.descriptor)
        self._typed_request: Any = typed.request_class if typed is not None else None
        self._typed_batch: Any = typed.batch_class if typed is not None else None

    @property
    def decodes_batches_at_once(self) -> bool:
        """Whether `parse_request` decodes batch records (False if the typed variant could not be built)."""
        return self._typed_request is not None

    def parse_request(self, raw: bytes) -> Any:
        """The request, batch records decoded (typed) when every one of them decodes.

        A record that does not decode fails the typed parse; the untyped request then carries
        the records as bytes and `check_batch` finds the bad one by its index.
        """
        if self._typed_request is not None:
            try:
                return self._typed_request.FromString(raw)
            except DecodeError:
                pass
        return EphemeralStreamRequest.FromString(raw)

    def check(self, payload: Any) -> None:
        message = self._decode(payload)
        if self._passes_fast((message,), message):
            return
        self._check_message(message)

    def reference_check(self, payload: Any) -> None:
        self._check_message(self._decode(payload))

    def check_batch(self, batch: Any) -> None:
        if type(batch) is not self._typed_batch:
            super().check_batch(batch)  # records as bytes: decode each
            return
        records = batch.records
        if self._passes_fast(records, batch):
            return
        for index, message in enumerate(records):
            try:
                self._check_message(message)
            except InvalidRecordError as error:
                raise RecordRejected(index, error) from None

    def stored_records(self, request: bytes) -> list[Any]:
        """Decoded messages when the request decodes typed (it does for accepted requests)."""
        if self._typed_request is not None:
            try:
                parsed = self._typed_request.FromString(request)
            except DecodeError:
                pass
            else:
                if parsed.WhichOneof("payload") == "ingest_record":
                    return [parsed.ingest_record.proto_encoded_record]  # bytes in the typed variant too
                return list(parsed.ingest_record_batch.proto_encoded_batch.records)
        return super().stored_records(request)

    def to_row(self, record: Any) -> dict[str, Any]:
        message = self._decode(record) if isinstance(record, bytes) else record
        self._check_required(message)
        return self._read(message)

    # -- the reference path, record by record -----------------------------------------------------
    def _decode(self, payload: bytes) -> Any:
        try:
            return self._from_string(payload)
        except DecodeError as error:
            raise InvalidRecordError("", _short(payload), f"not a valid proto message: {error}") from None

    def _check_required(self, message: Any) -> None:
        # upb does not enforce proto2 `required` while parsing.
        if self._has_required and not message.IsInitialized():
            missing = message.FindInitializationErrors()
            raise InvalidRecordError(missing[0] if missing else "", None, "NOT NULL field is missing")

    def _check_message(self, message: Any) -> None:
        self._check_required(message)
        if self._row_check is not None:
            _checked(self._row_check, self._read(message))

    def _read(self, message: Any) -> dict[str, Any]:
        try:
            return self._to_dict(message)
        except UnicodeDecodeError as error:
            # A string map key that is not UTF-8: upb cannot even hand the map over.
            reason = f"a map key is not valid UTF-8 text ({error.reason} at byte {error.start})"
            raise InvalidRecordError(undecodable_map_path(message) or "", None, reason) from None

    # -- the fast path ------------------------------------------------------------------------------
    def _passes_fast(self, records: Any, holder: Any) -> bool:
        """True if every record surely passes; `holder` holds them all (one `IsInitialized`)."""
        if self._has_required and not holder.IsInitialized():
            return False
        if self._batch_check is None:
            return True
        try:
            return self._batch_check(records)
        except (ValueError, TypeError):
            return False  # e.g. a map key that is not UTF-8: the reference path names it


def _checked(check: Callable[[Any], None], row: dict[str, Any]) -> None:
    try:
        check(row)
    except ArithmeticError as error:
        # A value the check cannot even compute with (a 400-digit integer for a DOUBLE, decimal
        # text like "1E100"): the record's fault, so a 4044, not an internal error.
        raise InvalidRecordError("", row, f"a value cannot be checked: {error!r}") from None


def _not_json_text(record: Any) -> str:
    problem = text_problem(bytes(record)) if isinstance(record, (bytes, bytearray)) else None
    return f"a JSON record must be UTF-8 text: {problem or f'got {type(record).__name__}'}"


def _has_nested_required(message: descriptor_pb2.DescriptorProto) -> bool:
    return any(f.label == _F.LABEL_REQUIRED for f in message.field) or any(
        _has_nested_required(inner) for inner in message.nested_type
    )


def _declared(column: Column, required: frozenset[str]) -> bool:
    return not column.nullable and column.name in required


def _short(payload: Any) -> Any:
    return payload[:200] if isinstance(payload, (str, bytes)) else payload
