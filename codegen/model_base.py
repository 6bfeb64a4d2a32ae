"""Internal: Base classes of the Pydantic models of a table, generated as source or built at runtime.

Generated modules (``zerobus-codegen``) and `zerobus.codegen.model_class()` both produce
subclasses of `ZerobusModel` (one per table) and `ZerobusStruct` (one per STRUCT value). The
contract the SDK relies on:

- ``Model.zerobus_schema()`` -> the `TableSchema` (``__zerobus_schema__``, rebuilt at import
  from the column DDL the module embeds);
- ``Model.message_class()`` -> the runtime protobuf class of the record message;
- ``model.to_wire()`` -> the row as section 7 wire values (days, microseconds, decimal text),
  ``model.to_proto_bytes()``, ``model.to_json()`` (a JSON record);
- ``Model.from_wire(row)``, ``Model.from_proto_bytes(data)``, ``Model.from_json(text)``;
- ``Model.zerobus_proto_encoder()`` -> instance -> record bytes, compiled once per class
  (`zerobus.codegen.model_proto`); ``to_proto_bytes()`` and the SDK's PROTO streams use it.

Python attribute names differ from column names only where a column name cannot be one
(keywords, names clashing with the model's own attributes...): such fields carry the column
name as their serialization alias and accept it as a validation alias, and every conversion
here works on column names.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ClassVar

from google.protobuf import descriptor_pb2
from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

from zerobus.codegen import model_fast, model_proto
from zerobus.codegen.model_inputs import read_raw_values
from zerobus.errors import SchemaError
from zerobus.schema import descriptor
from zerobus.schema.ir import Primitive, TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.records import RecordCodec, codec, wire_to_json_text
from zerobus.schema.typemap import INT_RANGES

__all__ = [
    "BigInt",
    "Int",
    "SmallInt",
    "TinyInt",
    "ZerobusModel",
    "ZerobusStruct",
    "embedded_schema",
]

# The integral column types, bounded to their column range (PROTOCOL.md section 7).
TinyInt = Annotated[int, Field(ge=INT_RANGES[Primitive.TINYINT][0], le=INT_RANGES[Primitive.TINYINT][1])]
SmallInt = Annotated[int, Field(ge=INT_RANGES[Primitive.SMALLINT][0], le=INT_RANGES[Primitive.SMALLINT][1])]
Int = Annotated[int, Field(ge=INT_RANGES[Primitive.INT][0], le=INT_RANGES[Primitive.INT][1])]
BigInt = Annotated[int, Field(ge=INT_RANGES[Primitive.BIGINT][0], le=INT_RANGES[Primitive.BIGINT][1])]


def embedded_schema(name: str, columns: Sequence[str], comment: str | None = None) -> TableSchema:
    """Rebuild a table's schema from the column DDL a generated module embeds."""
    schema = schema_from_ddl(", ".join(columns), name)
    return dataclasses.replace(schema, comment=comment) if comment is not None else schema


_CODECS: weakref.WeakKeyDictionary[type, RecordCodec] = weakref.WeakKeyDictionary()


class ZerobusStruct(BaseModel):
    """Base of every generated model: the value of a STRUCT (and, via `ZerobusModel`, a row).

    Unknown fields are errors, so a misspelt column never silently becomes NULL.
    """

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    @model_validator(mode="before")
    @classmethod
    def _read_raw_values(cls, data: Any) -> Any:
        """DATE/TIMESTAMP integers and DECIMAL floats read as the table contract says (`model_inputs`)."""
        return read_raw_values(cls, data)


class ZerobusModel(ZerobusStruct):
    """A row of a table; see the module docstring for the contract."""

    __zerobus_schema__: ClassVar[TableSchema]
    # The proto message name when it is not the table's name (``--message-name``).
    __zerobus_message_name__: ClassVar[str | None] = None
    # (class, function) compiled on first use: instance -> proto bytes (`model_proto`), instance ->
    # wire row (`model_fast`). A class attribute is the cheapest look-up per record; the class
    # beside the function keeps a subclass (maybe with serializers of its own) from using it.
    __zerobus_proto_encoder__: ClassVar[tuple[type, Callable[[Any], bytes]] | None] = None
    __zerobus_wire_converter__: ClassVar[tuple[type, Callable[[Any], dict[str, Any]]] | None] = None

    @classmethod
    def zerobus_schema(cls) -> TableSchema:
        """The table schema this model was generated from."""
        schema = getattr(cls, "__zerobus_schema__", None)
        if not isinstance(schema, TableSchema):
            raise SchemaError(
                f"{cls.__qualname__} has no table schema: set __zerobus_schema__ (generated models do)"
            )
        return schema

    @classmethod
    def zerobus_codec(cls) -> RecordCodec:
        """The compiled converters of this model's table (shared, cached per schema)."""
        try:
            return _CODECS[cls]  # by class: hashing the schema on every record would cost more
        except KeyError:
            found = _CODECS[cls] = codec(cls.zerobus_schema(), cls.__zerobus_message_name__)
            return found

    @classmethod
    def message_class(cls) -> Any:
        """The runtime protobuf message class of the table (no protoc involved)."""
        return cls.zerobus_codec().message_class

    @classmethod
    def descriptor_proto(cls) -> descriptor_pb2.DescriptorProto:
        """The record message's `DescriptorProto`, as PROTO streams send it in `create_stream`."""
        return descriptor.descriptor_proto(cls.zerobus_schema(), cls.__zerobus_message_name__)

    @classmethod
    def zerobus_proto_encoder(cls) -> Callable[[Any], bytes]:
        """One function per class, instance -> record bytes: what the SDK calls for each record."""
        compiled = cls.__zerobus_proto_encoder__
        if compiled is not None and compiled[0] is cls:
            return compiled[1]
        message_class = cls.zerobus_codec().message_class
        struct = cls.zerobus_schema().as_struct()
        found = model_proto.proto_encoder(cls, struct, message_class, _reference_proto_bytes)
        cls.__zerobus_proto_encoder__ = (cls, found)
        if found is not _reference_proto_bytes:
            method = model_proto.proto_encoder(
                cls, struct, message_class, _reference_proto_bytes, other_types=_any_model_proto_bytes
            )
            _install_to_proto_bytes(cls, method)
        return found

    # -- model -> records -----------------------------------------------------------------------
    def to_wire(self, json_mode: bool = False) -> dict[str, Any]:
        """The row as wire values keyed by column name, nulls left out (PROTOCOL.md section 7).

        ``json_mode`` gives the JSON-record flavour (BINARY as base64 text).
        """
        if json_mode:
            wire: dict[str, Any] = self.zerobus_codec().row_to_json_wire(self.model_dump(by_alias=True))
            return wire
        cls = type(self)
        compiled = cls.__zerobus_wire_converter__
        if compiled is not None and compiled[0] is cls:
            return compiled[1](self)
        convert = model_fast.wire_converter(cls, cls.zerobus_schema().as_struct(), _reference_wire)
        cls.__zerobus_wire_converter__ = (cls, convert)
        return convert(self)

    def to_proto_bytes(self) -> bytes:
        """The row as a serialized record message (what PROTO streams ingest)."""
        cls = type(self)
        compiled = cls.__zerobus_proto_encoder__
        if compiled is not None and compiled[0] is cls:
            return compiled[1](self)
        return cls.zerobus_proto_encoder()(self)

    def to_proto(self) -> Any:
        """The row as an instance of `message_class()`."""
        return self.message_class().FromString(self.to_proto_bytes())

    def to_json(self) -> str:
        """The row as JSON record text (what JSON streams ingest)."""
        return wire_to_json_text(self.to_wire(json_mode=True))

    # -- records -> model -----------------------------------------------------------------------
    @classmethod
    def from_wire(cls, row: Mapping[str, Any], json_mode: bool = False) -> Self:
        """A model from a wire row keyed by column name (e.g. a decoded record)."""
        row_codec = cls.zerobus_codec()
        convert = row_codec.row_from_json_wire if json_mode else row_codec.row_from_wire
        return cls.model_validate(convert(row))

    @classmethod
    def from_proto_bytes(cls, data: bytes) -> Self:
        """A model from a serialized record message."""
        return cls.model_validate(cls.zerobus_codec().decode_proto(data))

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """A model from JSON record text."""
        return cls.model_validate(cls.zerobus_codec().decode_json(text))


def _reference_wire(model: ZerobusModel) -> dict[str, Any]:
    """The row by the generic converters: the meaning the compiled path (`model_fast`) must keep."""
    wire: dict[str, Any] = model.zerobus_codec().row_to_wire(model.model_dump(by_alias=True))
    return wire


def _reference_proto_bytes(model: ZerobusModel) -> bytes:
    return model.zerobus_codec().wire_to_proto_bytes(_reference_wire(model))


def _any_model_proto_bytes(model: ZerobusModel) -> bytes:
    return model.zerobus_proto_encoder()(model)


# Marks the functions `_install_to_proto_bytes` made methods (a subclass may replace them).
_COMPILED_MARK = "__zerobus_compiled__"


def _install_to_proto_bytes(cls: type[ZerobusModel], method: Callable[[Any], bytes]) -> None:
    """Make the compiled function itself the class's ``to_proto_bytes`` (it sends instances of
    other classes, i.e. subclasses, to their own), sparing each call the look-up the inherited
    method does; a ``to_proto_bytes`` the user wrote (on the class or a base) is left alone."""
    if "to_proto_bytes" in cls.__dict__:
        return
    inherited = cls.to_proto_bytes
    if inherited is not ZerobusModel.to_proto_bytes and not getattr(inherited, _COMPILED_MARK, False):
        return
    for name, value in (
        ("__name__", "to_proto_bytes"),
        ("__qualname__", f"{cls.__qualname__}.to_proto_bytes"),
        ("__doc__", ZerobusModel.to_proto_bytes.__doc__),
        (_COMPILED_MARK, True),
    ):
        setattr(method, name, value)
    cls.to_proto_bytes = method  # type: ignore[method-assign, assignment]
