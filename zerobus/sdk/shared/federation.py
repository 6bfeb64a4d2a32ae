"""Internal: The headers provider of federated streams: IdP token -> exchanged Databricks token, cached.

`FederatedHeadersProvider.get_headers()` serves the exchanged token from the SDK object's
`TokenCache` and exchanges a fresh one (calling the IdP token supplier) only when there is none,
it nears its expiry, or the server refused it (`invalidate()`). The exchanged token never
outlives its subject token: the cache keeps it until the earlier of the workspace's
``expires_in`` and the subject JWT's ``exp``.

An ``async def`` supplier (asyncio SDK) is awaited on the event loop that created the stream,
from the worker thread the token work runs on, so the loop stays free meanwhile.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import requests

from zerobus.endpoints import Endpoint, TableName, parse_table_name
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.oauth import DEFAULT_TIMEOUT_S
from zerobus.protocol.constants import BEARER_PREFIX, TABLE_NAME_HEADER
from zerobus.sdk.shared.auth import FederatedToken, IdpSupplier
from zerobus.sdk.shared.headers_provider import AUTHORIZATION, HeadersProvider
from zerobus.sdk.shared.table_properties import TableProperties
from zerobus.sdk.shared.token_cache import MintedToken, TokenCache
from zerobus.token_exchange import exchange_subject_token, unverified_expiry

__all__ = ["FederatedHeadersProvider", "federated_arguments", "federated_provider", "federation_table"]

logger = logging.getLogger(__name__)


class FederatedHeadersProvider(HeadersProvider):
    """Bearer token from an RFC 8693 exchange of the IdP token, shared through `cache`."""

    def __init__(
        self,
        workspace: Endpoint,
        workspace_id: str,
        table_name: str,
        supplier: Callable[[], Any],
        client_id: str | None,
        cache_identity: str,
        cache: TokenCache,
        session: requests.Session | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        supplier_timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        workspace.require_safe_for_credentials()
        self.workspace = workspace
        self.workspace_id = workspace_id
        self.table: TableName = parse_table_name(table_name)
        self.client_id = client_id
        self._supplier = supplier
        self._cache = cache
        self._session = session
        self._loop = loop
        self._supplier_timeout_s = supplier_timeout_s
        # Workload identity federation is keyed by its service principal, account-wide
        # federation by the FederatedToken instance; a token is scoped to one table either way.
        identity = ("client", client_id) if client_id is not None else ("instance", cache_identity)
        self._key: Hashable = (*identity, self.table.full_name.lower())

    @property
    def table_name(self) -> str:
        return self.table.full_name

    def get_headers(self) -> list[tuple[str, str]]:
        token, _ = self._cache.get(self._key, self._exchange)
        return [(AUTHORIZATION, f"{BEARER_PREFIX}{token}"), (TABLE_NAME_HEADER, self.table.full_name)]

    def invalidate(self) -> bool:
        """Drop the cached exchanged token (the server refused it); True if one was cached."""
        dropped = self._cache.invalidate(self._key)
        if dropped:
            logger.info("dropped the exchanged token of %s: the next attempt exchanges anew", self.table_name)
        return dropped

    def _exchange(self) -> MintedToken:
        subject_token = self._idp_token()
        started = self._cache.clock()
        granted = exchange_subject_token(
            self.workspace, self.table, self.workspace_id, subject_token, self.client_id, self._session
        )
        if granted.expires_in_s is None:
            return MintedToken(granted.value, None)
        expires_at = started + granted.expires_in_s
        subject_expiry = unverified_expiry(subject_token)
        if subject_expiry is not None:
            expires_at = min(expires_at, subject_expiry)
        return MintedToken(granted.value, expires_at)

    def _idp_token(self) -> str:
        try:
            result = self._supplier()
            if inspect.isawaitable(result):
                result = self._await(result)
        except ZerobusException:
            raise
        except Exception as error:
            raise ZerobusException(f"idp_token_supplier failed: {error!r}", cause=error) from error
        if not isinstance(result, str) or not result.strip():
            shown = type(result).__name__ if not isinstance(result, str) else "an empty string"
            raise ConfigurationError(
                f"idp_token_supplier must return the IdP token as a non-empty string, got {shown}"
            )
        return result.strip()

    def _await(self, awaitable: Awaitable[Any]) -> Any:
        loop = self._loop
        if loop is None or loop.is_closed():
            _discard(awaitable)
            if loop is None:
                raise ConfigurationError(
                    "idp_token_supplier returned an awaitable, which the synchronous ZerobusSdk cannot "
                    "await: use zerobus.sdk.aio.ZerobusSdk, or a supplier that returns the token"
                )
            raise ZerobusException(
                "the event loop that created this stream is closed: cannot await idp_token_supplier"
            )
        if _running_loop() is loop:
            _discard(awaitable)
            raise ZerobusException(
                "cannot wait for an async idp_token_supplier on its own event loop's thread"
            )
        future = asyncio.run_coroutine_threadsafe(_awaited(awaitable), loop)
        try:
            return future.result(self._supplier_timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ZerobusException(
                f"idp_token_supplier did not return within {self._supplier_timeout_s:g} s"
            ) from None


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _discard(awaitable: Awaitable[Any]) -> None:
    """Close a coroutine that will never run (else Python warns it was never awaited)."""
    close = getattr(awaitable, "close", None)
    if inspect.iscoroutine(awaitable) and callable(close):
        close()


def federation_table(client_id: Any, client_secret: Any, table_properties: Any, auth: Any) -> TableProperties:
    """The table of a ``create_stream(..., auth=...)`` call, refusing arguments that cannot go with it."""
    if isinstance(client_id, TableProperties) and client_secret is None and table_properties is None:
        client_id, table_properties = None, client_id  # the table given first, as the official core does
    if client_id is not None or client_secret is not None:
        raise ConfigurationError(
            "client_id/client_secret cannot be combined with auth=; pass table_properties as a "
            "keyword when using auth=, e.g. create_stream(table_properties=..., auth=...)"
        )
    if not isinstance(auth, (FederatedToken, IdpSupplier)):
        raise ConfigurationError(f"auth= must be a FederatedToken, got {type(auth).__name__}")
    if not isinstance(table_properties, TableProperties):
        raise ConfigurationError(
            f"table_properties must be a TableProperties, got {type(table_properties).__name__}"
        )
    return table_properties


def federated_provider(
    config: Any,
    auth: FederatedToken | IdpSupplier,
    table_name: str,
    client_id: str | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> FederatedHeadersProvider:
    """The provider of a federated stream of the SDK whose `SdkConfig` is `config`.

    `loop`: the asyncio SDK's running loop, on which an async supplier is awaited (None: the
    synchronous SDK, which refuses awaitables).
    """
    if isinstance(auth, FederatedToken):
        supplier, identity, client_id = (
            auth.idp_token_supplier,
            auth._cache_identity,
            auth.databricks_client_id,
        )
    else:
        supplier, identity = auth.idp_token_supplier, auth.cache_identity
        loop = loop if auth.allow_async else None
    if client_id is not None and (not isinstance(client_id, str) or not client_id.strip()):
        raise ConfigurationError(
            f"databricks_client_id must be a non-empty string or None, got {client_id!r}"
        )
    return FederatedHeadersProvider(
        config.workspace,
        config.endpoint.workspace_id,
        table_name,
        supplier,
        client_id,
        identity,
        config.token_cache,
        session=config.http_session,
        loop=loop,
    )


def federated_arguments(
    config: Any,
    client_id: Any,
    client_secret: Any,
    table_properties: Any,
    auth: Any,
    loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[TableProperties, FederatedHeadersProvider]:
    """The table and headers provider of a ``create_stream(..., auth=...)`` (or pool) call."""
    table = federation_table(client_id, client_secret, table_properties, auth)
    return table, federated_provider(config, auth, table.table_name, loop=loop)
