"""Internal: The HTTP API's token endpoints: OAuth client credentials, token exchange, the development IdP.

``POST /oidc/v1/token`` takes client credentials (HTTP Basic or form fields), ``grant_type``,
``scope``, optional ``resource`` and ``authorization_details`` (docs/PROTOCOL.md section 2), or
an external-IdP JWT to exchange (RFC 8693, `token_exchange`). ``POST /dev-idp/token`` is
emulator-only: a JWT of the development identity provider (`dev_idp`) to exchange.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from zerobus.protocol.constants import AUTHORIZATION_HEADER, CLIENT_CREDENTIALS_GRANT, OAUTH_SCOPE
from zerobus.server.frontends.http_errors import oauth_error
from zerobus.server.identity.auth import AuthError
from zerobus.server.identity.authorization_details import requested_privileges
from zerobus.server.identity.dev_idp import issue_from_form
from zerobus.server.identity.token_exchange import TOKEN_EXCHANGE_GRANT, exchange_token
from zerobus.server.server_core import ServerCore

__all__ = ["dev_idp_token", "token"]


def _form(body: bytes) -> dict[str, str]:
    """A form body's fields (the last value of a repeated one)."""
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def token(core: ServerCore, headers: Any, body: bytes) -> dict[str, Any]:
    """The token endpoint's answer (an OAuth error as `ApiError`)."""
    form = _form(body)
    if form.get("grant_type") == TOKEN_EXCHANGE_GRANT:
        try:
            return exchange_token(form, core.idp, core.federation, core.principals, core.tokens)
        except AuthError as error:
            raise oauth_error(error.status, error.error, error.message) from None
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    auth = headers.get(AUTHORIZATION_HEADER, "")
    if auth.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise oauth_error(400, "invalid_request", "malformed Basic authorization header") from None
    if not client_id or client_secret is None:
        raise oauth_error(401, "invalid_client", "client credentials are missing (use HTTP Basic auth)")
    try:
        principal = core.principals.authenticate(client_id, client_secret)
    except AuthError as error:
        raise oauth_error(error.status, error.error, error.message) from None
    if form.get("grant_type") != CLIENT_CREDENTIALS_GRANT:
        raise oauth_error(
            400,
            "unsupported_grant_type",
            f"grant_type must be client_credentials or {TOKEN_EXCHANGE_GRANT}, got {form.get('grant_type')!r}",
        )
    scope = form.get("scope", "")
    if OAUTH_SCOPE not in scope.split():
        raise oauth_error(400, "invalid_scope", f"scope must be '{OAUTH_SCOPE}'")
    try:
        authorized = requested_privileges(principal, form.get("authorization_details"))
    except AuthError as error:
        raise oauth_error(error.status, error.error, error.message) from None
    issued = core.tokens.issue(principal, scope, form.get("resource") or None, authorized)
    return {
        "access_token": issued.value,
        "token_type": "Bearer",
        "expires_in": int(core.tokens.lifetime_s),
        "scope": scope,
    }


def dev_idp_token(core: ServerCore, body: bytes) -> dict[str, Any]:
    """The development IdP's answer: a JWT for the form's ``subject`` and ``audience``."""
    try:
        return issue_from_form(core.idp, _form(body))
    except ValueError as error:
        raise oauth_error(400, "invalid_request", str(error)) from None
