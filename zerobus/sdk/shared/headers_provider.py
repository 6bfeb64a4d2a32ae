"""Headers of the gRPC call: who we are (a bearer token) and which table we write to.

`HeadersProvider` is the extension point of the official SDK: `get_headers()` returns
``[(key, value), ...]`` and is called once per call attempt (stream creation and every
recovery), so a provider can hand out a fresh token each time. `OAuthHeadersProvider` does
exactly that with the OAuth client-credentials flow of docs/PROTOCOL.md section 2.
"""

from __future__ import annotations

from collections.abc import Iterable

import requests

from zerobus.endpoints import parse_endpoint, parse_table_name
from zerobus.errors import ConfigurationError
from zerobus.oauth import ingest_token_form, request_token
from zerobus.protocol.constants import AUTHORIZATION_HEADER, BEARER_PREFIX, SDK_ID_HEADER, TABLE_NAME_HEADER

__all__ = [
    "AUTHORIZATION",
    "TABLE_NAME_HEADER",
    "HeadersProvider",
    "OAuthHeadersProvider",
    "normalize_headers",
]

AUTHORIZATION = AUTHORIZATION_HEADER  # the SDK's historical name for the header


class HeadersProvider:
    """Subclass and implement `get_headers()` for custom authentication.

    The result must include ``("authorization", "Bearer <token>")``; the SDK adds
    ``x-databricks-zerobus-table-name`` and its identifier when they are missing.
    """

    def get_headers(self) -> list[tuple[str, str]]:
        raise NotImplementedError(f"{type(self).__name__} must implement get_headers()")

    def invalidate(self) -> bool | None:
        """Drop cached credentials: called when the server refused them, before the next attempt.

        Default: nothing cached. Return True when cached credentials were dropped: the stream
        then tries once more, with the fresh credentials the next `get_headers()` returns.
        """
        return None


class OAuthHeadersProvider(HeadersProvider):
    """A fresh OAuth M2M token, scoped to the table, on every call attempt."""

    def __init__(
        self,
        workspace_id: str,
        workspace_url: str,
        table_name: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
    ) -> None:
        if not client_id or not client_secret:
            raise ConfigurationError("client_id and client_secret must be non-empty strings")
        self.workspace_id = workspace_id
        self.workspace = parse_endpoint(workspace_url, "Unity Catalog URL")
        self.workspace.require_safe_for_credentials()
        self.table = parse_table_name(table_name)
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = session

    @property
    def table_name(self) -> str:
        return self.table.full_name

    def get_headers(self) -> list[tuple[str, str]]:
        token = request_token(
            self.workspace,
            self._client_id,
            self._client_secret,
            ingest_token_form(self.table, self.workspace_id),
            self._session,
        )
        return [(AUTHORIZATION, f"{BEARER_PREFIX}{token}"), (TABLE_NAME_HEADER, self.table.full_name)]


def normalize_headers(
    headers: Iterable[tuple[str, str]], table_name: str, sdk_id: str
) -> list[tuple[str, str]]:
    """Lower-case keys (gRPC requires it), check the pairs, add the table and SDK identifier."""
    result: list[tuple[str, str]] = []
    try:
        pairs = list(headers)
    except TypeError:
        raise ConfigurationError(
            f"get_headers() must return a list of (key, value) pairs, got {headers!r}"
        ) from None
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ConfigurationError(
                f"get_headers() returned {pair!r}; each header must be a (str, str) pair"
            )
        result.append((pair[0].lower(), pair[1]))
    keys = {key for key, _ in result}
    if AUTHORIZATION not in keys:
        raise ConfigurationError("get_headers() returned no 'authorization' header")
    if TABLE_NAME_HEADER not in keys:
        result.append((TABLE_NAME_HEADER, table_name))
    if SDK_ID_HEADER not in keys:
        result.append((SDK_ID_HEADER, sdk_id))
    return result
