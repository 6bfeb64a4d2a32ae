"""Principals, Unity Catalog grants, and the OAuth tokens the emulator issues and checks.

Grants follow Unity Catalog's inheritance: a privilege granted on a catalog holds for every
schema and table in it, one on a schema for its tables, and `"*"` (the metastore) for
everything. `ALL PRIVILEGES` implies every privilege. Tokens are opaque random strings kept in
memory with their expiry: a restarted server forgets them, and clients mint a fresh token for
every stream creation anyway (PROTOCOL.md section 2).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "ALL_PRIVILEGES",
    "FULL_ACCESS",
    "INGEST_RESOURCE_SUFFIX",
    "AuthError",
    "Grant",
    "Principal",
    "PrincipalRegistry",
    "Token",
    "TokenIssuer",
]

ALL_PRIVILEGES = "ALL PRIVILEGES"
INGEST_RESOURCE_SUFFIX = "/zerobusDirectWriteApi"
_KNOWN_PRIVILEGES = frozenset(
    {ALL_PRIVILEGES, "USE CATALOG", "USE SCHEMA", "SELECT", "MODIFY", "CREATE TABLE", "MANAGE"}
)


@dataclass(frozen=True)
class Grant:
    """Privileges on one securable: `"*"` (everything), `"cat"`, `"cat.sch"` or `"cat.sch.tbl"`.

    Example: ``Grant("main.default.events", {"SELECT", "MODIFY"})``.
    """

    securable: str
    privileges: frozenset[str]

    def __init__(self, securable: str, privileges: Iterable[str]) -> None:
        normalized = frozenset(p.strip().upper() for p in privileges)
        unknown = normalized - _KNOWN_PRIVILEGES
        if unknown:
            raise ValueError(f"unknown privileges {sorted(unknown)}; known: {sorted(_KNOWN_PRIVILEGES)}")
        if (securable != "*" and not all(securable.split("."))) or securable.count(".") > 2:
            raise ValueError(
                f"securable must be '*', 'catalog', 'catalog.schema' or a table, got {securable!r}"
            )
        object.__setattr__(self, "securable", securable)
        object.__setattr__(self, "privileges", normalized)

    def covers(self, full_path: str) -> bool:
        """Whether this grant's securable is `full_path` or one of its ancestors."""
        return self.securable in ("*", full_path) or full_path.startswith(self.securable + ".")


FULL_ACCESS: tuple[Grant, ...] = (Grant("*", [ALL_PRIVILEGES]),)


@dataclass(frozen=True)
class Principal:
    """A service principal: OAuth client credentials and its grants."""

    client_id: str
    client_secret: str = field(repr=False)
    grants: tuple[Grant, ...] = FULL_ACCESS

    def has_privilege(self, privilege: str, full_path: str) -> bool:
        """Whether `privilege` on `full_path` is granted, directly or inherited."""
        wanted = privilege.upper()
        return any(
            grant.covers(full_path) and (wanted in grant.privileges or ALL_PRIVILEGES in grant.privileges)
            for grant in self.grants
        )


class AuthError(Exception):
    """A refused credential or token; `status` is the HTTP status, `error` the OAuth error code."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


class PrincipalRegistry:
    """The principals the server knows, by client id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._principals: dict[str, Principal] = {}

    def add(self, principal: Principal) -> None:
        with self._lock:
            self._principals[principal.client_id] = principal

    def remove(self, client_id: str) -> None:
        with self._lock:
            self._principals.pop(client_id, None)

    def get(self, client_id: str) -> Principal | None:
        with self._lock:
            return self._principals.get(client_id)

    def authenticate(self, client_id: str, client_secret: str) -> Principal:
        principal = self.get(client_id)
        if principal is None or not secrets.compare_digest(principal.client_secret, client_secret):
            raise AuthError(
                401, "invalid_client", "Client authentication failed: invalid client_id or secret"
            )
        return principal


@dataclass(frozen=True)
class Token:
    """What an access token stands for."""

    value: str
    client_id: str
    scope: str
    resource: str | None
    # (object_full_path, privilege) pairs granted through `authorization_details`.
    authorized: frozenset[tuple[str, str]]
    expires_at: float

    @property
    def is_ingest_token(self) -> bool:
        return self.resource is not None and self.resource.endswith(INGEST_RESOURCE_SUFFIX)


class TokenIssuer:
    """Mints and validates opaque bearer tokens with an expiry (injected clock for tests)."""

    def __init__(self, lifetime_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}

    def issue(
        self,
        principal: Principal,
        scope: str,
        resource: str | None,
        authorized: Iterable[tuple[str, str]] = (),
    ) -> Token:
        now = self._clock()
        token = Token(
            value="dzb" + secrets.token_hex(24),
            client_id=principal.client_id,
            scope=scope,
            resource=resource,
            authorized=frozenset(authorized),
            expires_at=now + self.lifetime_s,
        )
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[token.value] = token
        return token

    def validate(self, value: str) -> Token:
        """The token behind `value`, or `AuthError(401)` when unknown or expired."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            raise AuthError(401, "invalid_token", "Invalid access token")
        if token.expires_at <= self._clock():
            raise AuthError(401, "invalid_token", "Access token expired")
        return token

    def expire_all(self) -> None:
        """Make every issued token expired (for tests of token expiry)."""
        with self._lock:
            self._tokens = {
                k: Token(t.value, t.client_id, t.scope, t.resource, t.authorized, float("-inf"))
                for k, t in self._tokens.items()
            }
