"""Internal: Records of a table in their three shapes: Python values, proto bytes and JSON text.

A `RecordCodec` is compiled once per (schema, message name) and cached. It composes the
section 7 converters of `zerobus.schema.python_to_wire` / `wire_to_python` with the runtime message class of
`zerobus.schema.descriptor`:

    row (dict of Python values) --to_wire--> wire row --message class--> proto bytes
                                 --to_wire(json_mode)--> wire row --json.dumps--> JSON text

and back. Proto cannot tell an empty ARRAY or MAP from a NULL one: decoding gives an empty
list or dict. The proto parts are built on first use, so a table whose names are not valid
protobuf identifiers still works with JSON records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property, lru_cache
from typing import Any

from google.protobuf.message import DecodeError, EncodeError

from zerobus.errors import InvalidRecordError
from zerobus.schema import descriptor, python_to_wire, wire_to_python
from zerobus.schema.ir import TableSchema
from zerobus.schema.proto_layout import ProtoMessage
from zerobus.schema.scalar_values import Converter

__all__ = ["RecordCodec", "codec", "message_to_wire"]


class RecordCodec:
    """Encode and decode the rows of one table (see the module docstring)."""

    def __init__(self, schema: TableSchema, message_name: str | None = None) -> None:
        self.schema = schema
        self.message_name = message_name

    # -- compiled parts, built on first use ---------------------------------------------------------
    @cached_property
    def row_to_wire(self) -> Converter:
        return python_to_wire.row_to_wire(self.schema)

    @cached_property
    def row_to_json_wire(self) -> Converter:
        return python_to_wire.row_to_wire(self.schema, json_mode=True)

    @cached_property
    def row_from_wire(self) -> Converter:
        return wire_to_python.row_from_wire(self.schema)

    @cached_property
    def row_from_json_wire(self) -> Converter:
        return wire_to_python.row_from_wire(self.schema, json_mode=True)

    @cached_property
    def message_class(self) -> Any:
        """The runtime protobuf message class of the table (see `descriptor.message_class`)."""
        return descriptor.message_class(self.schema, self.message_name)

    @cached_property
    def build_message(self) -> descriptor.MessageBuilder:
        """Wire row -> message (`descriptor.message_builder`: safe on every protobuf version)."""
        return descriptor.message_builder(self.message_class)

    @cached_property
    def _read_message(self) -> descriptor.MessageReader:
        """Message -> wire row (`descriptor.message_reader`, shared with the local server)."""
        return descriptor.message_reader(self.message_class.DESCRIPTOR)

    # -- Python values -> records ---------------------------------------------------------------
    def wire_to_proto_bytes(self, wire_row: Mapping[str, Any]) -> bytes:
        """Serialize a row already in wire form (the output of `row_to_wire`)."""
        build = self.build_message  # a SchemaError here is the schema's, not the row's
        try:
            data: bytes = build(wire_row).SerializeToString()
        except (TypeError, ValueError, EncodeError) as error:
            raise InvalidRecordError(
                "", dict(wire_row), f"does not fit the record message: {error}"
            ) from error
        return data

    def encode_proto(self, row: Mapping[str, Any]) -> bytes:
        """A row of Python values (dates, datetimes, Decimals, nested dicts) -> proto bytes."""
        return self.wire_to_proto_bytes(self.row_to_wire(row))

    def encode_json(self, row: Mapping[str, Any]) -> str:
        """A row of Python values -> JSON record text (days, microseconds, decimal text, base64)."""
        return wire_to_json_text(self.row_to_json_wire(row))

    # -- records -> Python values ---------------------------------------------------------------
    def proto_bytes_to_wire(self, data: bytes) -> dict[str, Any]:
        """Decode proto bytes into a wire row (nested dicts keyed by field name)."""
        message_class = self.message_class
        try:
            message = message_class.FromString(data)
        except DecodeError as error:
            raise InvalidRecordError("", data, f"not a valid {self.schema.name} record: {error}") from error
        return self._read_message(message)

    def decode_proto(self, data: bytes) -> dict[str, Any]:
        """Proto bytes -> a row of Python values, every column present (None when null)."""
        return dict(self.row_from_wire(self.proto_bytes_to_wire(data)))

    def decode_json(self, text: str | bytes) -> dict[str, Any]:
        """JSON record text -> a row of Python values, every column present (None when null)."""
        try:
            wire_row = json.loads(text)
        except ValueError as error:
            raise InvalidRecordError("", text, f"not valid JSON: {error}") from error
        if not isinstance(wire_row, dict):
            raise InvalidRecordError("", wire_row, "a JSON record must be an object")
        return dict(self.row_from_json_wire(wire_row))


def wire_to_json_text(wire_row: Mapping[str, Any]) -> str:
    """JSON record text of a row in JSON wire form; NaN and infinities have no JSON spelling."""
    try:
        return json.dumps(wire_row, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as error:
        raise InvalidRecordError("", dict(wire_row), f"cannot be written as JSON: {error}") from error


@lru_cache(maxsize=256)
def codec(schema: TableSchema, message_name: str | None = None) -> RecordCodec:
    """The cached `RecordCodec` of a schema (compiled parts are shared by every caller)."""
    return RecordCodec(schema, message_name)


def message_to_wire(message: Any, proto_message: ProtoMessage | None = None) -> dict[str, Any]:
    """A decoded protobuf message -> wire row (`descriptor.message_reader` of its own descriptor).

    `proto_message`, the layout the message was built from, is no longer needed; it is accepted
    so existing callers keep working.
    """
    return descriptor.message_reader(message.DESCRIPTOR)(message)
