"""Internal: The RFC 8693 token-exchange grant of ``/oidc/v1/token``: federated external-IdP tokens.

A client holding a JWT from an identity provider the workspace trusts exchanges it for a
Databricks access token (docs/PROTOCOL.md section 10). Two forms, as in Databricks:

- workload identity federation: the form names a service principal (`client_id`); one of that
  principal's federation policies must match the token's issuer and subject (and audience, when
  the policy names audiences);
- account-wide federation: no `client_id`; the token's subject is the principal's client id, and
  an account policy must trust the issuer.

Every refusal of the subject token is 400 ``invalid_grant`` (RFC 8693 section 2.2.2) naming the
claim and the reason. The access token inherits the subject token's expiry when that comes
first, and `resource` / `authorization_details` narrow it exactly as for client credentials.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from zerobus.protocol.constants import ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE, OAUTH_SCOPE, TOKEN_EXCHANGE_GRANT
from zerobus.server.identity.auth import AuthError, Principal, PrincipalRegistry, TokenIssuer
from zerobus.server.identity.authorization_details import requested_privileges
from zerobus.server.identity.dev_idp import (
    DEV_IDP_ISSUER,
    DevIdentityProvider,
    IdpClaims,
    SubjectTokenRefused,
)

__all__ = [
    "JWT_TOKEN_TYPE",
    "TOKEN_EXCHANGE_GRANT",
    "FederationPolicies",
    "FederationPolicy",
    "exchange_token",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FederationPolicy:
    """Trust tokens of `issuer` for `subject` (None: any subject) and, if given, one of `audiences`.

    With `client_id` the policy belongs to that service principal (workload identity
    federation); without, it is an account policy (the subject names the principal).
    """

    issuer: str
    subject: str | None = None
    audiences: tuple[str, ...] = ()
    client_id: str | None = None

    def matches(self, claims: IdpClaims) -> bool:
        if claims.issuer != self.issuer:
            return False
        if self.subject is not None and claims.subject != self.subject:
            return False
        return not self.audiences or any(a in self.audiences for a in claims.audiences)


class FederationPolicies:
    """The policies the server holds (thread-safe); by default, an account policy for the dev IdP."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policies: list[FederationPolicy] = [FederationPolicy(DEV_IDP_ISSUER)]

    def add(self, policy: FederationPolicy) -> None:
        with self._lock:
            self._policies.append(policy)

    def remove_all(self) -> None:
        """No token of any issuer is trusted any more (tests of refusal)."""
        with self._lock:
            self._policies.clear()

    def resolve(self, claims: IdpClaims, client_id: str | None, principals: PrincipalRegistry) -> Principal:
        """The principal the subject token stands for; `SubjectTokenRefused` if no policy allows it."""
        with self._lock:
            policies = list(self._policies)
        if client_id is not None:
            principal = principals.get(client_id)
            if principal is None:
                raise SubjectTokenRefused(
                    f"client_id {client_id!r} is not a service principal of this workspace"
                )
            if not any(p.client_id == client_id and p.matches(claims) for p in policies):
                raise SubjectTokenRefused(
                    f"no federation policy of service principal {client_id!r} trusts issuer "
                    f"{claims.issuer!r}, subject {claims.subject!r}, audiences {list(claims.audiences)}"
                )
            return principal
        if not any(p.client_id is None and p.matches(claims) for p in policies):
            raise SubjectTokenRefused(
                f"no account federation policy trusts issuer {claims.issuer!r}, subject "
                f"{claims.subject!r}, audiences {list(claims.audiences)}"
            )
        principal = principals.get(claims.subject)
        if principal is None:
            raise SubjectTokenRefused(
                f"subject {claims.subject!r} of the subject_token is not a principal of this workspace"
            )
        return principal


def exchange_token(
    form: Mapping[str, str],
    idp: DevIdentityProvider,
    policies: FederationPolicies,
    principals: PrincipalRegistry,
    tokens: TokenIssuer,
) -> dict[str, Any]:
    """Answer a token-exchange form: the access-token response, or `AuthError` (400) saying why."""
    logger.info("token exchange request with fields %s", sorted(form))
    subject_token = form.get("subject_token")
    if not subject_token:
        raise AuthError(400, "invalid_request", "subject_token is required for the token-exchange grant")
    token_type = form.get("subject_token_type")
    if token_type != JWT_TOKEN_TYPE:
        raise AuthError(
            400, "invalid_request", f"subject_token_type must be {JWT_TOKEN_TYPE!r}, got {token_type!r}"
        )
    scope = form.get("scope", "")
    if OAUTH_SCOPE not in scope.split():
        raise AuthError(400, "invalid_scope", f"scope must include '{OAUTH_SCOPE}', got {scope!r}")
    client_id = form.get("client_id") or None
    try:
        claims = idp.verify(subject_token)
        principal = policies.resolve(claims, client_id, principals)
    except SubjectTokenRefused as refused:
        raise AuthError(400, "invalid_grant", str(refused)) from None
    authorized = requested_privileges(principal, form.get("authorization_details"))
    token = tokens.issue(
        principal, scope, form.get("resource") or None, authorized, not_after=claims.expires_at
    )
    return {
        "access_token": token.value,
        "token_type": "Bearer",
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "expires_in": max(0, int(token.expires_at - tokens.clock())),
        "scope": scope,
    }
