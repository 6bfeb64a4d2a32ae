"""Internal: The library facade: load a table's schema, and get everything the SDK needs from it.

schema = load_schema("main.default.air_quality")            # Unity Catalog (env credentials)
schema = load_schema(path="air_quality.json")               # a saved tables-API answer
schema = load_schema("main.default.air_quality", ddl="device_name STRING, temp INT NOT NULL")

message_class(schema)  descriptor_proto(schema)  model_class(schema)  proto_text(schema)
json_encoder(schema)({"temp": 3}) -> JSON record text;  proto_encoder(schema)(row) -> bytes
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests

from zerobus.errors import ConfigurationError, SchemaError
from zerobus.json_depth import JsonTooDeep, loads_within_depth
from zerobus.names import check_name_part, parse_table_name
from zerobus.schema.ir import TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.proto_layout import layout
from zerobus.schema.records import codec
from zerobus.schema.uc_json import schema_from_uc_json

__all__ = [
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "ENV_HOST",
    "check_schema",
    "json_encoder",
    "load_schema",
    "model_source",
    "proto_encoder",
    "proto_text",
    "schema_from_file",
    "schema_from_uc",
]

ENV_HOST = "DATABRICKS_HOST"
ENV_CLIENT_ID = "DATABRICKS_CLIENT_ID"
ENV_CLIENT_SECRET = "DATABRICKS_CLIENT_SECRET"


def check_schema(schema: TableSchema) -> TableSchema:
    """Raise `SchemaError` (naming the column path) unless every column can go over Zerobus.

    Rejects what the proto contract cannot carry: ARRAY<ARRAY>, ARRAY<MAP>, maps of maps or
    arrays, non-scalar or floating map keys, empty structs, names that are not protobuf
    identifiers. (Unknown and unsupported types are already rejected while parsing.)
    """
    layout(schema)
    return schema


def schema_from_file(path: str | os.PathLike[str]) -> TableSchema:
    """A schema from a saved Unity Catalog tables-API answer (JSON)."""
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read table JSON {file_path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ConfigurationError(f"cannot read table JSON {file_path}: not UTF-8 ({error})") from None
    try:
        table = loads_within_depth(text)
    except JsonTooDeep as error:
        raise SchemaError(f"{file_path}: {error}") from None
    except ValueError as error:
        raise SchemaError(f"{file_path} is not valid JSON: {error}") from error
    return schema_from_uc_json(table)


def schema_from_uc(
    table: str,
    host: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    token: str | None = None,
    session: requests.Session | None = None,
) -> TableSchema:
    """A schema read from Unity Catalog; missing arguments come from the DATABRICKS_* variables."""
    from zerobus.schema.uc import fetch_table_json

    host = host or os.environ.get(ENV_HOST)
    if not host:
        raise ConfigurationError(f"no workspace URL: pass host or set {ENV_HOST}")
    table_json = fetch_table_json(
        table,
        host,
        client_id or os.environ.get(ENV_CLIENT_ID),
        client_secret or os.environ.get(ENV_CLIENT_SECRET),
        token=token,
        session=session,
    )
    return schema_from_uc_json(table_json)


def load_schema(
    table: str | None = None,
    *,
    ddl: str | None = None,
    path: str | os.PathLike[str] | None = None,
    host: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    token: str | None = None,
    session: requests.Session | None = None,
    check: bool = True,
) -> TableSchema:
    """A table's schema from exactly one source: `ddl` (named `table`), `path`, or Unity Catalog.

    With `check` (the default) the schema is also checked against the Zerobus type contract
    (`check_schema`), so unsupported shapes fail here, naming the column, not at first ingest.
    """
    if ddl is not None and path is not None:
        raise ConfigurationError("give either ddl or path, not both")
    if ddl is not None:
        if not table:
            raise ConfigurationError("a DDL schema needs a table name: load_schema(name, ddl=...)")
        if "." in table:
            parse_table_name(table)
        else:
            check_name_part(table, "table name")
        schema = schema_from_ddl(ddl, table)
    elif path is not None:
        schema = schema_from_file(path)
        if table and table != schema.name:
            raise ConfigurationError(f"{path} describes table {schema.name!r}, not {table!r}")
    elif table:
        schema = schema_from_uc(table, host, client_id, client_secret, token=token, session=session)
    else:
        raise ConfigurationError("nothing to load: give a table name, ddl= or path=")
    return check_schema(schema) if check else schema


def proto_text(schema: TableSchema, message_name: str | None = None) -> str:
    """The proto2 .proto text of the table (byte-identical to the official generate_proto)."""
    from zerobus.codegen.proto_emit import proto_text as render_proto

    return render_proto(schema, message_name)


def model_source(schema: TableSchema, class_name: str | None = None, message_name: str | None = None) -> str:
    """The Python module of the table's Pydantic models."""
    from zerobus.codegen.model_emit import model_source as render_models

    return render_models(schema, class_name, message_name)


def json_encoder(schema: TableSchema) -> Callable[[Mapping[str, Any]], str]:
    """A compiled dict -> JSON record text converter (section 7 values: days, micros, base64)."""
    return codec(schema).encode_json


def proto_encoder(
    schema: TableSchema, message_name: str | None = None
) -> Callable[[Mapping[str, Any]], bytes]:
    """A compiled dict -> serialized record message converter."""
    return codec(schema, message_name).encode_proto
