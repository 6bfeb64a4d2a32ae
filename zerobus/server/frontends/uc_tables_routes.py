"""Internal: The HTTP API's Unity Catalog tables routes: list, get, create and drop tables.

- ``GET /api/2.1/unity-catalog/tables?catalog_name=&schema_name=``: ``{"tables": [...]}``.
- ``GET|DELETE /api/2.1/unity-catalog/tables/{full_name}``.
- ``POST /api/2.1/unity-catalog/tables``: ``{"catalog_name", "schema_name", "name", "columns":
  [{"name", "type_text" or "type_json", "nullable", "comment", "position"}], "comment"}``.

SELECT (or MODIFY) on a table to see it, CREATE TABLE on the schema to create one, MANAGE (or
ALL PRIVILEGES) to drop it (`decisions` says who holds what).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from zerobus.errors import ConfigurationError, SchemaError
from zerobus.json_depth import JsonTooDeep, loads_within_depth
from zerobus.names import check_name_part, parse_table_name
from zerobus.schema.uc_json import schema_from_uc_json
from zerobus.server.decisions import may_see_table
from zerobus.server.frontends.http_errors import require_any, uc_error
from zerobus.server.identity.auth import Caller
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.catalog import TableAlreadyExists, TableEntry, TableNotFound

__all__ = ["create_table", "delete_table", "get_table", "list_tables", "table_entry"]


def table_entry(core: ServerCore, full_name: str) -> TableEntry:
    """The catalog entry of `full_name` (400 for a malformed name, 404 for an unknown table)."""
    try:
        parse_table_name(full_name)
        return core.catalog.get(full_name)
    except ConfigurationError as error:
        raise uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
    except TableNotFound as error:
        raise uc_error(HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST", str(error)) from None


def get_table(core: ServerCore, caller: Caller, full_name: str) -> dict[str, Any]:
    entry = table_entry(core, full_name)
    require_any(caller, ("SELECT", "MODIFY"), entry.full_name)
    return entry.to_uc_json()


def list_tables(core: ServerCore, caller: Caller, query: dict[str, str]) -> dict[str, Any]:
    catalog, schema = query.get("catalog_name"), query.get("schema_name")
    tables = []
    for entry in core.catalog.entries():
        name = parse_table_name(entry.full_name)
        if catalog and name.catalog.lower() != catalog.lower():
            continue
        if schema and name.schema.lower() != schema.lower():
            continue
        if may_see_table(caller, entry.full_name):
            tables.append(entry.to_uc_json())
    return {"tables": tables}


def create_table(core: ServerCore, caller: Caller, body: bytes) -> dict[str, Any]:
    """Create the table a JSON body describes (see the module docstring)."""
    try:
        document = loads_within_depth(body or b"{}")
    except JsonTooDeep as error:
        raise uc_error(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", f"body: {error}") from None
    except ValueError as error:
        raise uc_error(
            HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", f"body is not JSON (UTF-8): {error}"
        ) from None
    if not isinstance(document, dict):
        raise uc_error(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "body must be a JSON object")
    try:
        parts = [check_name_part(document[k], k) for k in ("catalog_name", "schema_name", "name")]
        name = parse_table_name(".".join(parts))
    except KeyError as error:
        raise uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"missing field {error}") from None
    except ConfigurationError as error:
        raise uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
    require_any(caller, ("CREATE TABLE",), f"{name.catalog}.{name.schema}", "Schema")
    comment = document.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise uc_error(
            HTTPStatus.BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            f"comment must be a string or null, got {comment!r}",
        )
    try:
        schema = schema_from_uc_json({"full_name": name.full_name, "columns": document.get("columns")})
        entry = core.create_table(name.full_name, schema, comment)
    except (SchemaError, ValueError) as error:
        if isinstance(error, TableAlreadyExists):
            raise uc_error(HTTPStatus.CONFLICT, "TABLE_ALREADY_EXISTS", str(error)) from None
        raise uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
    return entry.to_uc_json()


def delete_table(core: ServerCore, caller: Caller, full_name: str) -> dict[str, Any]:
    entry = table_entry(core, full_name)
    require_any(caller, ("MANAGE",), entry.full_name)
    try:
        core.drop_table(entry.full_name)
    except TableNotFound as error:
        raise uc_error(HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST", str(error)) from None
    return {}
