"""The schema subsystem: Unity Catalog types -> IR -> proto2 text, runtime descriptors, models.

Public API (what the SDK and users import from ``zerobus.codegen``):

- schemas: `load_schema`, `schema_from_ddl`, `schema_from_uc_json`, `schema_from_file`,
  `schema_from_uc`, `check_schema`, and the IR (`TableSchema`, `Column`, ...);
- protobuf: `descriptor_proto`, `file_descriptor_proto`, `message_class`, `proto_text`,
  `descriptor_set_bytes`;
- Arrow: `arrow_schema` (also `TableSchema.arrow_schema()`; needs pyarrow);
- models: `ZerobusModel`, `ZerobusStruct`, `model_class`, `model_source`;
- records: `codec` (`RecordCodec`), `json_encoder`, `proto_encoder`;
- files: `generate`, `write_files`, `check_files`;
- Unity Catalog errors: `CatalogAuthError`, `TableNotFoundError`, `CatalogRequestError`,
  `CatalogUnavailableError`.
"""

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
from zerobus.codegen.arrow_schema import arrow_schema
from zerobus.codegen.descriptor import descriptor_proto, file_descriptor_proto, message_class
from zerobus.codegen.generate import (
    GeneratedFile,
    OutputError,
    check_files,
    descriptor_set_bytes,
    generate,
    write_files,
)
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
from zerobus.codegen.parse import schema_from_ddl, schema_from_uc_json
from zerobus.codegen.records import RecordCodec, codec
from zerobus.codegen.runtime_model import model_class
from zerobus.codegen.uc import (
    CatalogAuthError,
    CatalogRequestError,
    CatalogUnavailableError,
    TableNotFoundError,
)

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
