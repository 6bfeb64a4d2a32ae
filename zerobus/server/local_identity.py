"""Internal: Who may call a running local server: principals, token expiry and identity federation.

Kept apart from `LocalZerobusServer`'s lifecycle and tables: these only change the identity
state of the running server (`ServerCore.principals`, `tokens`, `idp`, `federation`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from zerobus.server.config import DEV_CLIENT_ID
from zerobus.server.identity.auth import FULL_ACCESS, Grant, Principal
from zerobus.server.identity.dev_idp import DEV_IDP_AUDIENCE

if TYPE_CHECKING:
    from zerobus.server.identity.token_exchange import FederationPolicy
    from zerobus.server.server_core import ServerCore

__all__ = ["IdentityAdmin"]


class IdentityAdmin:
    """The principals and federation part of `LocalZerobusServer` (it provides `core`)."""

    @property
    def core(self) -> ServerCore:
        raise NotImplementedError

    def add_principal(
        self, client_id: str, client_secret: str, grants: Iterable[Grant] = FULL_ACCESS
    ) -> Principal:
        """Add (or replace) a service principal with `grants`.

        Example: ``add_principal("reader", "s3cret", [Grant("main", ["USE CATALOG"]),
        Grant("main.default", ["USE SCHEMA"]), Grant("main.default.events", ["SELECT"])])``.
        """
        principal = Principal(client_id, client_secret, tuple(grants))
        self.core.principals.add(principal)
        return principal

    def remove_principal(self, client_id: str) -> None:
        """Forget a principal (its tokens stop working at the next check)."""
        self.core.principals.remove(client_id)

    def expire_tokens(self) -> None:
        """Make every token issued so far expired (to test token expiry), also after a restart."""
        self.core.tokens.expire_all()

    def idp_token(
        self, subject: str = DEV_CLIENT_ID, audience: str = DEV_IDP_AUDIENCE, lifetime_s: float = 3600.0
    ) -> str:
        """A JWT of the development identity provider vouching for `subject`, to federate.

        By default the server trusts it account-wide for a subject that is a principal's client
        id; `add_federation_policy` trusts other subjects for one principal.
        """
        return self.core.idp.issue(subject, audience, lifetime_s)

    def add_federation_policy(self, policy: FederationPolicy) -> None:
        """Trust external-IdP tokens: ``FederationPolicy(issuer, subject, audiences, client_id)``."""
        self.core.federation.add(policy)
