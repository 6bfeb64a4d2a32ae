"""Internal: OAuth machine-to-machine tokens, exactly as docs/PROTOCOL.md section 2 describes the real service.

Written once, blocking (the asyncio driver runs it in a worker thread). Failures are classified
here: HTTP 5xx, 429 and network errors are retryable `ZerobusException`s, other 4xx are
`NonRetriableException`s carrying the server's own message, and so is a server certificate the
client does not trust (retrying cannot change which CAs it trusts).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import requests

from zerobus.connection_hints import explain_http_failure
from zerobus.endpoints import Endpoint, TableName, parse_endpoint
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.json_depth import loads_within_depth
from zerobus.protocol.constants import (
    AUTHORIZATION_DETAILS_TYPE,
    CLIENT_CREDENTIALS_GRANT,
    INGEST_RESOURCE_SUFFIX,
    OAUTH_SCOPE,
    TOKEN_PATH,
)

__all__ = [
    "TOKEN_PATH",
    "GrantedToken",
    "fetch_ingest_token",
    "fetch_metadata_token",
    "ingest_token_form",
    "metadata_token_form",
    "request_grant",
    "request_token",
]

DEFAULT_TIMEOUT_S = 30.0


def authorization_details(table: TableName) -> list[dict[str, Any]]:
    """The three Unity Catalog privileges an ingest token asks for."""
    return [
        {
            "type": AUTHORIZATION_DETAILS_TYPE,
            "privileges": ["USE CATALOG"],
            "object_type": "CATALOG",
            "object_full_path": table.catalog,
        },
        {
            "type": AUTHORIZATION_DETAILS_TYPE,
            "privileges": ["USE SCHEMA"],
            "object_type": "SCHEMA",
            "object_full_path": f"{table.catalog}.{table.schema}",
        },
        {
            "type": AUTHORIZATION_DETAILS_TYPE,
            "privileges": ["SELECT", "MODIFY"],
            "object_type": "TABLE",
            "object_full_path": table.full_name,
            "operations": ["zerobuswrite"],
        },
    ]


def ingest_token_form(table: TableName, workspace_id: str) -> dict[str, str]:
    return {
        "grant_type": CLIENT_CREDENTIALS_GRANT,
        "scope": OAUTH_SCOPE,
        "resource": f"api://databricks/workspaces/{workspace_id}{INGEST_RESOURCE_SUFFIX}",
        "authorization_details": json.dumps(authorization_details(table)),
    }


def metadata_token_form() -> dict[str, str]:
    return {"grant_type": CLIENT_CREDENTIALS_GRANT, "scope": OAUTH_SCOPE}


@dataclass(frozen=True)
class GrantedToken:
    """An access token and, when the server said, how many seconds it stays valid."""

    value: str
    expires_in_s: float | None


def request_token(
    workspace: Endpoint,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    session: requests.Session | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> str:
    """POST the form to the workspace's token endpoint and return the access token."""
    return request_grant(workspace, form, (client_id, client_secret), session, timeout_s).value


def request_grant(
    workspace: Endpoint,
    form: dict[str, str],
    basic_auth: tuple[str, str] | None,
    session: requests.Session | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> GrantedToken:
    """POST the form (with HTTP Basic client credentials, if any) and return the granted token."""
    workspace.require_safe_for_credentials()
    url = workspace.url + TOKEN_PATH
    poster = session or requests
    try:
        response = poster.post(url, data=form, auth=basic_auth, timeout=timeout_s)
    except requests.RequestException as error:
        raise explain_http_failure(f"OAuth token request to {url}", workspace, error) from error
    if response.status_code != 200:
        message = _error_text(response)
        text = f"OAuth token request to {url} failed with HTTP {response.status_code}: {message}"
        if response.status_code >= 500 or response.status_code == 429:
            raise ZerobusException(text)
        raise NonRetriableException(text)
    try:
        body = loads_within_depth(response.content)
    except ValueError as error:  # nested too deep included
        raise ZerobusException(
            f"OAuth token response from {url} is not JSON: {error}", cause=error
        ) from error
    token = body.get("access_token") if isinstance(body, dict) else None
    if not token:
        raise NonRetriableException(f"OAuth token response from {url} has no access_token")
    expires_in = body.get("expires_in")
    usable = (
        isinstance(expires_in, (int, float))
        and not isinstance(expires_in, bool)
        and math.isfinite(expires_in)
        and expires_in >= 0
    )
    return GrantedToken(str(token), float(expires_in) if usable else None)


def _error_text(response: requests.Response) -> str:
    try:
        body = loads_within_depth(response.content)
    except ValueError:
        return response.text[:500] or response.reason or "no details"
    if isinstance(body, dict):
        for key in ("error_description", "message", "error"):
            if body.get(key):
                return str(body[key])
    return json.dumps(body)[:500]


def fetch_ingest_token(
    workspace_url: str,
    zerobus_endpoint: str,
    table: TableName,
    client_id: str,
    client_secret: str,
    session: requests.Session | None = None,
) -> str:
    """A token scoped to writing `table` through the Zerobus endpoint's workspace."""
    workspace = parse_endpoint(workspace_url, "workspace URL")
    workspace_id = parse_endpoint(zerobus_endpoint, "Zerobus endpoint").workspace_id
    return request_token(workspace, client_id, client_secret, ingest_token_form(table, workspace_id), session)


def fetch_metadata_token(
    workspace_url: str, client_id: str, client_secret: str, session: requests.Session | None = None
) -> str:
    """A token for reading table metadata from Unity Catalog."""
    workspace = parse_endpoint(workspace_url, "workspace URL")
    return request_token(workspace, client_id, client_secret, metadata_token_form(), session)
