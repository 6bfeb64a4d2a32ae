"""The public API of zerobus.codegen is pinned: the SDK and users import exactly these names."""

from __future__ import annotations

import zerobus.codegen as codegen
from zerobus.codegen import ZerobusModel

PUBLIC = {
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
    "arrow_schema",
    "avro_schema",
}


def test_public_names_are_pinned() -> None:
    assert set(codegen.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(codegen, name) is not None


def test_model_contract_methods() -> None:
    for name in (
        "zerobus_schema",
        "zerobus_codec",
        "message_class",
        "descriptor_proto",
        "to_wire",
        "to_proto_bytes",
        "to_proto",
        "to_json",
        "from_wire",
        "from_proto_bytes",
        "from_json",
    ):
        assert callable(getattr(ZerobusModel, name)), name
