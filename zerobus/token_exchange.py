"""Internal: RFC 8693 token exchange: an external-IdP JWT traded for a Zerobus ingest token.

docs/PROTOCOL.md section 10: the same ``/oidc/v1/token`` endpoint as client credentials, with
``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``, the IdP token as
``subject_token`` of type ``urn:ietf:params:oauth:token-type:jwt``, ``scope=all-apis``, and a
``client_id`` only for workload identity federation. The request is otherwise shaped like the
client-credentials one (the table-scoped ``resource`` and ``authorization_details``), so the
exchanged token is scoped to one table. No HTTP Basic auth: the subject token is the credential.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

import requests

from zerobus.endpoints import Endpoint, TableName
from zerobus.oauth import GrantedToken, ingest_token_form, request_grant
from zerobus.protocol.constants import JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT

__all__ = [
    "JWT_TOKEN_TYPE",
    "TOKEN_EXCHANGE_GRANT",
    "exchange_form",
    "exchange_subject_token",
    "unverified_expiry",
]


def exchange_form(
    table: TableName, workspace_id: str, subject_token: str, client_id: str | None
) -> dict[str, str]:
    form = ingest_token_form(table, workspace_id)
    form["grant_type"] = TOKEN_EXCHANGE_GRANT
    form["subject_token"] = subject_token
    form["subject_token_type"] = JWT_TOKEN_TYPE
    if client_id is not None:
        form["client_id"] = client_id
    return form


def exchange_subject_token(
    workspace: Endpoint,
    table: TableName,
    workspace_id: str,
    subject_token: str,
    client_id: str | None,
    session: requests.Session | None = None,
) -> GrantedToken:
    """The ingest token the workspace grants for `subject_token` (errors classified as in `oauth`)."""
    form = exchange_form(table, workspace_id, subject_token, client_id)
    return request_grant(workspace, form, None, session)


def unverified_expiry(token: str) -> float | None:
    """The ``exp`` claim (epoch seconds) of a JWT, read without verifying it; None if unreadable.

    Only used to stop caching an exchanged token once its subject token has expired: the
    server verifies the subject token, the client never trusts these claims for anything else.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload: Any = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    expiry = payload.get("exp") if isinstance(payload, dict) else None
    if isinstance(expiry, bool) or not isinstance(expiry, (int, float)) or not math.isfinite(expiry):
        return None
    return float(expiry)
