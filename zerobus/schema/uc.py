"""Internal: A small Unity Catalog client: fetch a table's JSON with an OAuth metadata token.

``GET {workspace}/api/2.1/unity-catalog/tables/{catalog.schema.table}`` with a Bearer token
from `zerobus.oauth.fetch_metadata_token` (docs/PROTOCOL.md sections 2 and 6). Failures are
classified once, here:

    NonRetriableException
    ├── CatalogAuthError        401/403, or the token request refused (bad credentials, grants)
    ├── TableNotFoundError      404: no such table (or no right to see it)
    ├── CatalogRequestError     any other 4xx, or a response that is not a table
    └── (itself)                TLS failed for good: an untrusted certificate, or no TLS at all
    ZerobusException
    └── CatalogUnavailableError 5xx, 429, network failure: retrying may succeed

Each keeps the server's own message (``{"error_code": ..., "message": ...}``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

from zerobus import oauth
from zerobus.connection_hints import explain_http_failure
from zerobus.endpoints import parse_endpoint, parse_table_name
from zerobus.errors import (
    ConfigurationError,
    NonRetriableException,
    SchemaError,
    ZerobusException,
)
from zerobus.json_depth import JsonTooDeep, loads_within_depth
from zerobus.protocol.constants import UC_TABLES_PATH

__all__ = [
    "TABLES_PATH",
    "CatalogAuthError",
    "CatalogRequestError",
    "CatalogUnavailableError",
    "TableNotFoundError",
    "fetch_table_json",
]

logger = logging.getLogger(__name__)

TABLES_PATH = UC_TABLES_PATH + "/"
DEFAULT_TIMEOUT_S = 30.0


class CatalogAuthError(NonRetriableException):
    """The credentials were refused, or the principal may not read the table (HTTP 401/403)."""

    # The HTTP status: 401 refused credentials, 403 a missing privilege.
    status: int | None = None


class TableNotFoundError(NonRetriableException):
    """Unity Catalog has no such table (HTTP 404)."""


class CatalogRequestError(NonRetriableException):
    """Unity Catalog refused the request (another 4xx) or answered something that is not a table."""


class CatalogUnavailableError(ZerobusException):
    """Unity Catalog could not answer (5xx, 429, network): retrying may succeed."""


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason or "no details"
    if isinstance(body, dict):
        code, message = body.get("error_code"), body.get("message")
        if message:
            return f"{code}: {message}" if code else str(message)
    return str(body)[:500]


def _metadata_token(
    workspace_url: str, client_id: str, client_secret: str, session: requests.Session | None
) -> str:
    try:
        return oauth.fetch_metadata_token(workspace_url, client_id, client_secret, session)
    except ConfigurationError:
        raise
    except NonRetriableException as error:
        if isinstance(error.cause, requests.RequestException):
            raise  # a TLS failure of the token request itself, not a refusal
        raise CatalogAuthError(error.message, cause=error) from error
    except ZerobusException as error:
        raise CatalogUnavailableError(error.message, cause=error) from error


def fetch_table_json(
    table: str,
    workspace_url: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    token: str | None = None,
    session: requests.Session | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> dict[str, Any]:
    """The table as Unity Catalog's tables API returns it.

    Authenticates with OAuth client credentials (a fresh metadata token), or with `token` when
    given. The table name is checked before any network call.
    """
    full_name = parse_table_name(table).full_name
    workspace = parse_endpoint(workspace_url, "workspace URL")
    workspace.require_safe_for_credentials()
    if token is None:
        if not client_id or not client_secret:
            raise ConfigurationError(
                "Unity Catalog needs OAuth client credentials: set client_id and client_secret "
                "(DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET) or pass a token"
            )
        token = _metadata_token(workspace.as_given, client_id, client_secret, session)
    url = workspace.url + TABLES_PATH + quote(full_name)
    getter = session or requests
    logger.debug("fetching table %s from %s", full_name, url)
    try:
        response = getter.get(
            url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=timeout_s
        )
    except requests.RequestException as error:
        explained = explain_http_failure(f"Unity Catalog request to {url}", workspace, error)
        if isinstance(explained, NonRetriableException):
            raise explained from error
        raise CatalogUnavailableError(explained.message, cause=error) from error
    status = response.status_code
    if status != 200:
        text = f"Unity Catalog returned HTTP {status} for table {full_name}: {_server_message(response)}"
        if status in (401, 403):
            refused = CatalogAuthError(text)
            refused.status = status
            raise refused
        if status == 404:
            raise TableNotFoundError(text)
        if status >= 500 or status == 429:
            raise CatalogUnavailableError(text)
        raise CatalogRequestError(text)
    try:
        body = loads_within_depth(response.content)
    except JsonTooDeep as error:  # a type nested this deep is one codegen cannot represent
        raise SchemaError(f"Unity Catalog answer for {full_name}: {error}") from None
    except ValueError as error:
        raise CatalogRequestError(f"Unity Catalog answer for {full_name} is not JSON", cause=error) from error
    if not isinstance(body, dict) or not isinstance(body.get("columns"), list):
        raise CatalogRequestError(f"Unity Catalog answer for {full_name} is not a table with columns")
    return body
