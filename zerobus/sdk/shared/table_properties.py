"""Internal: `TableProperties`: the target table and, optionally, what its records look like."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Union

from zerobus.encoders.avro_records import check_avro_schema_text
from zerobus.errors import ConfigurationError
from zerobus.names import TableName, parse_table_name

if TYPE_CHECKING:
    from google.protobuf.descriptor import Descriptor
    from google.protobuf.descriptor_pb2 import DescriptorProto
    from google.protobuf.message import Message

    from zerobus.codegen.model_base import ZerobusModel
    from zerobus.schema.ir import TableSchema

__all__ = ["DescriptorSource", "TableProperties"]

# What `TableProperties` takes as the shape of PROTO records (see its docstring).
DescriptorSource = Union[
    "Descriptor", "type[Message]", "DescriptorProto", bytes, "TableSchema", "type[ZerobusModel]"
]

_MISSING: Any = object()


class TableProperties:
    """The table to write to (`catalog.schema.table`) and the shape of its records.

    `descriptor` may be:

    - a compiled protobuf message `Descriptor` (``MyRecord.DESCRIPTOR``) or the message class:
      exactly that message is used, never another message of its file;
    - a `TableSchema` from `zerobus.codegen`, or a generated Pydantic model class
      (a `ZerobusModel` subclass): the descriptor is built at runtime;
    - a `google.protobuf.descriptor_pb2.DescriptorProto`, or its serialized bytes;
    - None: PROTO streams fetch the table's schema from Unity Catalog at `create_stream`;
      JSON streams send records as they are.

    `avro_schema` (JSON text of an Avro record schema, e.g. `TableSchema.avro_schema()`) selects
    AVRO records instead; it excludes a descriptor. `record_format` says which format the
    properties select: "avro", "proto" (a descriptor) or "json".

    The second argument is named `descriptor_proto`, as in the official SDK, so positional and
    keyword calls written for it bind the same; `descriptor` is accepted as a keyword too.
    """

    def __init__(
        self,
        table_name: str,
        descriptor_proto: DescriptorSource | None = None,
        avro_schema: str | None = None,
        *,
        descriptor: DescriptorSource | None = _MISSING,
    ) -> None:
        if descriptor is not _MISSING:
            if descriptor_proto is not None:
                raise ConfigurationError(
                    "TableProperties: pass either descriptor or descriptor_proto, not both"
                )
            descriptor_proto = descriptor
        if avro_schema is not None:
            if descriptor_proto is not None:
                raise ConfigurationError(
                    "TableProperties: descriptor_proto and avro_schema are mutually exclusive "
                    "(a descriptor selects PROTO records, an Avro schema AVRO records)"
                )
            check_avro_schema_text(avro_schema)
        self._name: TableName = parse_table_name(table_name)
        self.descriptor: DescriptorSource | None = descriptor_proto
        self._avro_schema = avro_schema

    @property
    def descriptor_proto(self) -> DescriptorSource | None:
        """The official SDK's name for `descriptor`."""
        return self.descriptor

    @property
    def avro_schema(self) -> str | None:
        """The Avro writer schema (JSON text) of an AVRO stream, or None; read-only, as in the official SDK."""
        return self._avro_schema

    @property
    def record_format(self) -> str:
        """The record format these properties select: "avro", "proto" or "json"."""
        if self._avro_schema is not None:
            return "avro"
        return "proto" if self.descriptor is not None else "json"

    @property
    def table_name(self) -> str:
        """`catalog.schema.table`, checked (`zerobus.names`) when set, before any network call."""
        return self._name.full_name

    @table_name.setter
    def table_name(self, value: str) -> None:
        self._name = parse_table_name(value)

    @property
    def parsed_name(self) -> TableName:
        return self._name

    def __repr__(self) -> str:
        shown = getattr(self.descriptor, "full_name", None) or getattr(self.descriptor, "__name__", None)
        if shown is None and self.descriptor is not None:
            shown = type(self.descriptor).__name__
        if self._avro_schema is not None:
            return f"TableProperties(table_name={self.table_name!r}, avro_schema=...)"
        return f"TableProperties(table_name={self.table_name!r}, descriptor={shown})"
