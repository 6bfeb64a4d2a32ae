"""Decode and check records: proto bytes or JSON text -> a row of wire values (a dict).

A `RecordCodec` is compiled once per stream (PROTO: from the checked descriptor; JSON: from the
table alone). `check(payload)` is the hot path: it decodes with upb and runs only the Python
checks the wire type does not already guarantee (`wire_row_check` returns None when there are
none). `to_row(payload)` is used by the materializer. Errors are `InvalidRecordError`s naming the
column path, the value and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from zerobus.codegen.ir import Column, TableSchema
from zerobus.codegen.values import wire_row_check
from zerobus.errors import InvalidRecordError
from zerobus.server.schema_check import CompiledDescriptor

__all__ = ["JsonRecordCodec", "ProtoRecordCodec", "RecordCodec"]

_F = descriptor_pb2.FieldDescriptorProto
_ToDict = Callable[[Any], dict[str, Any]]


class RecordCodec:
    """Interface: `check` validates a record payload, `to_row` returns its wire row."""

    json_mode: bool = False

    def check(self, payload: Any) -> None:
        raise NotImplementedError

    def to_row(self, payload: Any) -> dict[str, Any]:
        raise NotImplementedError


class JsonRecordCodec(RecordCodec):
    """JSON records: an object whose keys are column names and values per PROTOCOL.md section 7."""

    json_mode = True

    def __init__(self, schema: TableSchema) -> None:
        check = wire_row_check(schema, json_mode=True)
        assert check is not None  # JSON rows are always checked: JSON text carries no types
        self._check = check

    def to_row(self, payload: Any) -> dict[str, Any]:
        try:
            row = json.loads(payload)
        except ValueError as error:
            raise InvalidRecordError("", _short(payload), f"not valid JSON: {error}") from None
        if not isinstance(row, dict):
            raise InvalidRecordError(
                "", _short(payload), f"a JSON record must be an object, got {type(row).__name__}"
            )
        return row

    def check(self, payload: Any) -> None:
        self._check(self.to_row(payload))


class ProtoRecordCodec(RecordCodec):
    """Proto records decoded with the stream's own descriptor (field numbers are the client's)."""

    def __init__(self, schema: TableSchema, compiled: CompiledDescriptor) -> None:
        self._class = compiled.message_class
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
        descriptor = compiled.message_proto
        nested = _nested(descriptor, "." + descriptor.name)
        self._to_dict = _message_to_dict(descriptor, nested, schema)

    def _decode(self, payload: bytes) -> Any:
        try:
            message = self._from_string(payload)
        except DecodeError as error:
            raise InvalidRecordError("", _short(payload), f"not a valid proto message: {error}") from None
        # upb does not enforce proto2 `required` while parsing.
        if self._has_required and not message.IsInitialized():
            missing = message.FindInitializationErrors()
            raise InvalidRecordError(missing[0] if missing else "", None, "NOT NULL field is missing")
        return message

    def check(self, payload: Any) -> None:
        message = self._decode(payload)
        if self._row_check is not None:
            self._row_check(self._to_dict(message))

    def to_row(self, payload: Any) -> dict[str, Any]:
        return self._to_dict(self._decode(payload))


def _has_nested_required(message: descriptor_pb2.DescriptorProto) -> bool:
    return any(f.label == _F.LABEL_REQUIRED for f in message.field) or any(
        _has_nested_required(inner) for inner in message.nested_type
    )


def _declared(column: Column, required: frozenset[str]) -> bool:
    return not column.nullable and column.name in required


def _short(payload: Any) -> Any:
    return payload[:200] if isinstance(payload, (str, bytes)) else payload


def _nested(message: descriptor_pb2.DescriptorProto, path: str) -> dict[str, descriptor_pb2.DescriptorProto]:
    found = {path: message}
    for inner in message.nested_type:
        found.update(_nested(inner, f"{path}.{inner.name}"))
    return found


def _message_to_dict(
    message: descriptor_pb2.DescriptorProto,
    nested: dict[str, descriptor_pb2.DescriptorProto],
    schema: TableSchema | None,
) -> _ToDict:
    """Compile message -> dict of wire values, keyed by the table's spelling of each column."""
    column_names = {c.name.lower(): c.name for c in schema.columns} if schema is not None else {}
    steps: list[Callable[[Any, dict[str, Any]], None]] = []
    for field in message.field:
        key = column_names.get(field.name.lower(), field.name)
        steps.append(_field_step(field, key, nested))

    def convert(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in steps:
            step(value, out)
        return out

    return convert


def _field_step(
    field: descriptor_pb2.FieldDescriptorProto, key: str, nested: dict[str, descriptor_pb2.DescriptorProto]
) -> Callable[[Any, dict[str, Any]], None]:
    name = field.name
    target = nested.get(field.type_name) if field.type == _F.TYPE_MESSAGE else None
    if target is not None and target.options.map_entry:
        value_field = next(f for f in target.field if f.name == "value")
        value_message = nested.get(value_field.type_name) if value_field.type == _F.TYPE_MESSAGE else None
        if value_message is not None:
            inner = _message_to_dict(value_message, nested, None)

            def map_of_messages(message: Any, out: dict[str, Any]) -> None:
                out[key] = {k: inner(v) for k, v in getattr(message, name).items()}

            return map_of_messages

        def map_of_scalars(message: Any, out: dict[str, Any]) -> None:
            out[key] = dict(getattr(message, name))

        return map_of_scalars
    if field.label == _F.LABEL_REPEATED:
        if target is not None:
            element = _message_to_dict(target, nested, None)

            def repeated_messages(message: Any, out: dict[str, Any]) -> None:
                out[key] = [element(item) for item in getattr(message, name)]

            return repeated_messages

        def repeated_scalars(message: Any, out: dict[str, Any]) -> None:
            out[key] = list(getattr(message, name))

        return repeated_scalars
    if target is not None:
        inner_message = _message_to_dict(target, nested, None)

        def message_field(message: Any, out: dict[str, Any]) -> None:
            if message.HasField(name):
                out[key] = inner_message(getattr(message, name))

        return message_field

    def scalar(message: Any, out: dict[str, Any]) -> None:
        if message.HasField(name):
            out[key] = getattr(message, name)

    return scalar
