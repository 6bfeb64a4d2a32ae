"""The schema subsystem: Unity Catalog types -> IR -> proto2 text, runtime descriptors, models.

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

The names load lazily: the SDK and the server import the runtime modules they need
(`zerobus.codegen.ir`, `.values`, `.descriptor`) without pulling in jinja2, pydantic or click.
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
    from zerobus.codegen.arrow_types import arrow_schema
    from zerobus.codegen.avro_types import avro_schema
    from zerobus.codegen.descriptor import descriptor_proto, file_descriptor_proto, message_class
    from zerobus.codegen.ir import (
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
    from zerobus.codegen.model_base import ZerobusModel, ZerobusStruct
    from zerobus.codegen.output_files import (
        GeneratedFile,
        OutputError,
        check_files,
        descriptor_set_bytes,
        generate,
        write_files,
    )
    from zerobus.codegen.parse import schema_from_ddl, schema_from_uc_json
    from zerobus.codegen.records import RecordCodec, codec
    from zerobus.codegen.runtime_model import model_class
    from zerobus.codegen.uc import (
        CatalogAuthError,
        CatalogRequestError,
        CatalogUnavailableError,
        TableNotFoundError,
    )

# Each public name and the module that defines it.
_EXPORTS: dict[str, str] = {
    "ArrayType": "zerobus.codegen.ir",
    "CatalogAuthError": "zerobus.codegen.uc",
    "CatalogRequestError": "zerobus.codegen.uc",
    "CatalogUnavailableError": "zerobus.codegen.uc",
    "Column": "zerobus.codegen.ir",
    "DataType": "zerobus.codegen.ir",
    "DecimalType": "zerobus.codegen.ir",
    "GeneratedFile": "zerobus.codegen.output_files",
    "MapType": "zerobus.codegen.ir",
    "OutputError": "zerobus.codegen.output_files",
    "Primitive": "zerobus.codegen.ir",
    "PrimitiveType": "zerobus.codegen.ir",
    "RecordCodec": "zerobus.codegen.records",
    "StringType": "zerobus.codegen.ir",
    "StructField": "zerobus.codegen.ir",
    "StructType": "zerobus.codegen.ir",
    "TableNotFoundError": "zerobus.codegen.uc",
    "TableSchema": "zerobus.codegen.ir",
    "ZerobusModel": "zerobus.codegen.model_base",
    "ZerobusStruct": "zerobus.codegen.model_base",
    "arrow_schema": "zerobus.codegen.arrow_types",
    "avro_schema": "zerobus.codegen.avro_types",
    "check_files": "zerobus.codegen.output_files",
    "check_schema": "zerobus.codegen.api",
    "codec": "zerobus.codegen.records",
    "descriptor_proto": "zerobus.codegen.descriptor",
    "descriptor_set_bytes": "zerobus.codegen.output_files",
    "file_descriptor_proto": "zerobus.codegen.descriptor",
    "generate": "zerobus.codegen.output_files",
    "json_encoder": "zerobus.codegen.api",
    "load_schema": "zerobus.codegen.api",
    "message_class": "zerobus.codegen.descriptor",
    "model_class": "zerobus.codegen.runtime_model",
    "model_source": "zerobus.codegen.api",
    "proto_encoder": "zerobus.codegen.api",
    "proto_text": "zerobus.codegen.api",
    "schema_from_ddl": "zerobus.codegen.parse",
    "schema_from_file": "zerobus.codegen.api",
    "schema_from_uc": "zerobus.codegen.api",
    "schema_from_uc_json": "zerobus.codegen.parse",
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
