"""The generator: a table's .proto, Pydantic models, descriptor sets, Arrow and Avro schemas.

Public API (what the SDK and users import from ``zerobus.codegen``):

- schemas: `load_schema`, `schema_from_ddl`, `schema_from_uc_json`, `schema_from_file`,
  `schema_from_uc`, `check_schema`, and the IR (`TableSchema`, `Column`, ...);
- protobuf: `descriptor_proto`, `file_descriptor_proto`, `message_class`, `proto_text`,
  `descriptor_set_bytes`;
- Arrow: `arrow_schema` (also `TableSchema.arrow_schema()`; needs pyarrow);
- Avro: `avro_schema` (JSON data; `TableSchema.avro_schema()` gives the JSON text AVRO streams send);
- models: `ZerobusModel`, `ZerobusStruct`, `model_class`, `model_source`;
- records: `codec` (`RecordCodec`), `json_encoder`, `proto_encoder`;
- files: `generate`, `write_files`, `check_files`;
- Unity Catalog errors: `CatalogAuthError`, `TableNotFoundError`, `CatalogRequestError`,
  `CatalogUnavailableError`.

It is built on the runtime schema core, `zerobus.schema` (IR, type parsing, one row per Delta
type, value conversion, descriptors), which the SDK and the local server use directly; the names
here load lazily, so importing the SDK never pulls in jinja2, pydantic or click.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zerobus.codegen.api import (
        check_schema,
        json_encoder,
        load_schema,
        model_source,
        proto_encoder,
        proto_text,
        schema_from_file,
        schema_from_uc,
    )
    from zerobus.codegen.model_base import ZerobusModel, ZerobusStruct
    from zerobus.codegen.output_files import (
        GeneratedFile,
        OutputError,
        check_files,
        descriptor_set_bytes,
        generate,
        write_files,
    )
    from zerobus.codegen.runtime_model import model_class
    from zerobus.schema.arrow_types import arrow_schema
    from zerobus.schema.avro_types import avro_schema
    from zerobus.schema.descriptor import descriptor_proto, file_descriptor_proto, message_class
    from zerobus.schema.ir import (
        ArrayType,
        Column,
        DataType,
        DecimalType,
        MapType,
        Primitive,
        PrimitiveType,
        StringType,
        StructField,
        StructType,
        TableSchema,
    )
    from zerobus.schema.parse import schema_from_ddl
    from zerobus.schema.records import RecordCodec, codec
    from zerobus.schema.uc import (
        CatalogAuthError,
        CatalogRequestError,
        CatalogUnavailableError,
        TableNotFoundError,
    )
    from zerobus.schema.uc_json import schema_from_uc_json

# Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "ArrayType": "zerobus.schema.ir",
    "CatalogAuthError": "zerobus.schema.uc",
    "CatalogRequestError": "zerobus.schema.uc",
    "CatalogUnavailableError": "zerobus.schema.uc",
    "Column": "zerobus.schema.ir",
    "DataType": "zerobus.schema.ir",
    "DecimalType": "zerobus.schema.ir",
    "GeneratedFile": "zerobus.codegen.output_files",
    "MapType": "zerobus.schema.ir",
    "OutputError": "zerobus.codegen.output_files",
    "Primitive": "zerobus.schema.ir",
    "PrimitiveType": "zerobus.schema.ir",
    "RecordCodec": "zerobus.schema.records",
    "StringType": "zerobus.schema.ir",
    "StructField": "zerobus.schema.ir",
    "StructType": "zerobus.schema.ir",
    "TableNotFoundError": "zerobus.schema.uc",
    "TableSchema": "zerobus.schema.ir",
    "ZerobusModel": "zerobus.codegen.model_base",
    "ZerobusStruct": "zerobus.codegen.model_base",
    "arrow_schema": "zerobus.schema.arrow_types",
    "avro_schema": "zerobus.schema.avro_types",
    "check_files": "zerobus.codegen.output_files",
    "check_schema": "zerobus.codegen.api",
    "codec": "zerobus.schema.records",
    "descriptor_proto": "zerobus.schema.descriptor",
    "descriptor_set_bytes": "zerobus.codegen.output_files",
    "file_descriptor_proto": "zerobus.schema.descriptor",
    "generate": "zerobus.codegen.output_files",
    "json_encoder": "zerobus.codegen.api",
    "load_schema": "zerobus.codegen.api",
    "message_class": "zerobus.schema.descriptor",
    "model_class": "zerobus.codegen.runtime_model",
    "model_source": "zerobus.codegen.api",
    "proto_encoder": "zerobus.codegen.api",
    "proto_text": "zerobus.codegen.api",
    "schema_from_ddl": "zerobus.schema.parse",
    "schema_from_file": "zerobus.codegen.api",
    "schema_from_uc": "zerobus.codegen.api",
    "schema_from_uc_json": "zerobus.schema.uc_json",
    "write_files": "zerobus.codegen.output_files",
}

__all__ = [
    "ArrayType",
    "CatalogAuthError",
    "CatalogRequestError",
    "CatalogUnavailableError",
    "Column",
    "DataType",
    "DecimalType",
    "GeneratedFile",
    "MapType",
    "OutputError",
    "Primitive",
    "PrimitiveType",
    "RecordCodec",
    "StringType",
    "StructField",
    "StructType",
    "TableNotFoundError",
    "TableSchema",
    "ZerobusModel",
    "ZerobusStruct",
    "arrow_schema",
    "avro_schema",
    "check_files",
    "check_schema",
    "codec",
    "descriptor_proto",
    "descriptor_set_bytes",
    "file_descriptor_proto",
    "generate",
    "json_encoder",
    "load_schema",
    "message_class",
    "model_class",
    "model_source",
    "proto_encoder",
    "proto_text",
    "schema_from_ddl",
    "schema_from_file",
    "schema_from_uc",
    "schema_from_uc_json",
    "write_files",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
