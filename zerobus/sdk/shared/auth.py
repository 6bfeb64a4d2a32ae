"""Federated external-IdP authentication: `FederatedToken`, the official SDK's ``auth=`` argument.

Instead of a Databricks OAuth secret, the stream presents a JWT from an identity provider the
workspace trusts (Entra ID, Okta, a CI system's OIDC token...), which the SDK exchanges for a
Databricks token (RFC 8693, `zerobus.token_exchange`). ``create_stream(table_properties=...,
auth=FederatedToken(supplier))`` in both drivers.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeAlias, Union

from zerobus.errors import ConfigurationError

__all__ = ["FederatedToken", "IdpSupplier", "IdpTokenSupplier"]

# A zero-argument callable returning the current IdP token, or an awaitable of it (asyncio SDK).
IdpTokenSupplier: TypeAlias = Callable[[], Union[str, Awaitable[str]]]  # noqa: UP007 (a runtime alias, as official)


@dataclass(frozen=True)
class FederatedToken:
    """Authenticate a stream with an external-IdP token, exchanged for a Databricks token.

    `idp_token_supplier` is called only when a token must be exchanged (the first stream, then
    when the exchanged token nears its expiry or the server refused it), never per request. It
    may be ``async def`` with the asyncio SDK; the synchronous SDK needs a plain function.

    `databricks_client_id`: the service principal for workload identity federation (a federation
    policy of that principal must trust the IdP token), or None for account-wide federation.

    Frozen: one instance is one identity. Streams of one SDK object share the exchanged token
    of an instance (or, with workload identity federation, of the same client id) and table.
    """

    idp_token_supplier: IdpTokenSupplier
    databricks_client_id: str | None = None
    _cache_identity: str = field(
        default_factory=lambda: uuid.uuid4().hex, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not callable(self.idp_token_supplier):
            raise ConfigurationError(
                f"idp_token_supplier must be a callable returning the IdP token, got {self.idp_token_supplier!r}"
            )
        client_id = self.databricks_client_id
        if client_id is not None and (not isinstance(client_id, str) or not client_id.strip()):
            raise ConfigurationError(
                f"databricks_client_id must be a non-empty string or None, got {client_id!r}"
            )


class IdpSupplier:
    """The official core's handle on a token supplier (``create_stream_federated``'s argument).

    `allow_async`: whether an awaitable result may be awaited (the asyncio SDK); `cache_identity`
    partitions the token cache like a `FederatedToken` instance does.
    """

    def __init__(self, idp_token_supplier: IdpTokenSupplier, allow_async: bool, cache_identity: str) -> None:
        if not callable(idp_token_supplier):
            raise ConfigurationError(
                f"idp_token_supplier must be a callable returning the IdP token, got {idp_token_supplier!r}"
            )
        if not isinstance(cache_identity, str) or not cache_identity:
            raise ConfigurationError(f"cache_identity must be a non-empty string, got {cache_identity!r}")
        self.idp_token_supplier = idp_token_supplier
        self.allow_async = bool(allow_async)
        self.cache_identity = cache_identity
