"""Internal: Principals, Unity Catalog grants, and the OAuth tokens the emulator issues and checks.

Grants follow Unity Catalog's inheritance: a privilege granted on a catalog holds for every
schema and table in it, one on a schema for its tables, and `"*"` (the metastore) for
everything. `ALL PRIVILEGES` implies every privilege. Tokens are signed claim sets (see
`token_signing`): valid for their lifetime across restarts of a server on the same data
directory, refused once expired; a token narrowed by `authorization_details` allows only what
it names (`Token.permits`), on REST as on gRPC.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.names import check_name_part
from zerobus.protocol.constants import INGEST_RESOURCE_SUFFIX
from zerobus.server.identity.token_signing import TokenSigner

__all__ = [
    "ALL_PRIVILEGES",
    "FULL_ACCESS",
    "INGEST_RESOURCE_SUFFIX",
    "KNOWN_PRIVILEGES",
    "AuthError",
    "Caller",
    "Grant",
    "Principal",
    "PrincipalRegistry",
    "Token",
    "TokenIssuer",
]

ALL_PRIVILEGES = "ALL PRIVILEGES"
KNOWN_PRIVILEGES = frozenset(
    {ALL_PRIVILEGES, "USE CATALOG", "USE SCHEMA", "SELECT", "MODIFY", "CREATE TABLE", "MANAGE"}
)


def _is_securable_path(path: str) -> bool:
    """One to three dot-separated parts, each a valid name (`zerobus.names`)."""
    parts = path.split(".")
    try:
        for part in parts:
            check_name_part(part, "securable part")
    except ConfigurationError:
        return False
    return len(parts) <= 3


@dataclass(frozen=True)
class Grant:
    """Privileges on one securable: `"*"` (everything), `"cat"`, `"cat.sch"` or `"cat.sch.tbl"`.

    Example: ``Grant("main.default.events", {"SELECT", "MODIFY"})``.
    """

    securable: str
    privileges: frozenset[str]

    def __init__(self, securable: str, privileges: Iterable[str]) -> None:
        # A bare string would be iterated letter by letter.
        if isinstance(privileges, (str, bytes)) or not all(isinstance(p, str) for p in privileges):
            raise ValueError(f"privileges must be a list of privilege names, got {privileges!r}")
        normalized = frozenset(p.strip().upper() for p in privileges)
        unknown = normalized - KNOWN_PRIVILEGES
        if unknown:
            raise ValueError(f"unknown privileges {sorted(unknown)}; known: {sorted(KNOWN_PRIVILEGES)}")
        if not isinstance(securable, str) or (securable != "*" and not _is_securable_path(securable)):
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

    @property
    def is_scoped(self) -> bool:
        """Whether `authorization_details` narrowed the token (else the principal's grants apply)."""
        return bool(self.authorized)

    def permits(self, privilege: str, full_path: str) -> bool:
        """Whether the token's scope allows `privilege` on `full_path` (the principal's grants aside).

        An unscoped token (no `authorization_details`) allows what the principal may do; a scoped
        one only the privileges it names, on the objects it names and their children.
        """
        if not self.authorized:
            return True
        wanted = privilege.upper()
        target = full_path.lower()
        return any(
            (target == path.lower() or target.startswith(path.lower() + "."))
            and granted in (wanted, ALL_PRIVILEGES)
            for path, granted in self.authorized
        )


class TokenIssuer:
    """Mints and validates self-verifying bearer tokens with an expiry (injected clock for tests).

    Tokens are signed by `TokenSigner`; with a `key_file` they stay valid across restarts of a
    server on the same data directory until they expire. The clock is wall-clock time, which a
    restart does not reset.
    """

    def __init__(
        self,
        lifetime_s: float,
        clock: Callable[[], float] = time.time,
        key_file: Path | None = None,
    ) -> None:
        self.lifetime_s = lifetime_s
        # Wall-clock seconds; public so a test can move a running server's time forward.
        self.clock = clock
        self._signer = TokenSigner(key_file)

    def issue(
        self,
        principal: Principal,
        scope: str,
        resource: str | None,
        authorized: Iterable[tuple[str, str]] = (),
        not_after: float | None = None,
    ) -> Token:
        """A token for `principal`; `not_after` caps its expiry (an exchanged token dies with its subject token)."""
        expires_at = self.clock() + self.lifetime_s
        if not_after is not None:
            expires_at = min(expires_at, not_after)
        pairs = frozenset(authorized)
        claims = {
            "sub": principal.client_id,
            "scope": scope,
            "res": resource,
            "authz": sorted([path, privilege] for path, privilege in pairs),
            "exp": expires_at,
            "jti": secrets.token_hex(8),
        }
        return Token(self._signer.sign(claims), principal.client_id, scope, resource, pairs, expires_at)

    def validate(self, value: str) -> Token:
        """The token behind `value`, or `AuthError(401)` when not ours, tampered with or expired."""
        token, epoch = _token_from_claims(value, self._signer.verify(value))
        if token is None:
            raise AuthError(401, "invalid_token", "Invalid access token")
        if epoch < self._signer.epoch or token.expires_at <= self.clock():
            raise AuthError(401, "invalid_token", "Access token expired")
        return token

    def expire_all(self) -> None:
        """Make every token issued so far expired (for tests of token expiry)."""
        self._signer.revoke_all()


def _token_from_claims(value: str, claims: dict[str, Any] | None) -> tuple[Token | None, int]:
    """The token a verified claim set describes (None if malformed) and its signing epoch."""
    if claims is None:
        return None, 0
    client_id, scope, resource = claims.get("sub"), claims.get("scope"), claims.get("res")
    pairs, expires_at, epoch = claims.get("authz"), claims.get("exp"), claims.get("ep")
    if (
        not isinstance(client_id, str)
        or not isinstance(scope, str)
        or not (resource is None or isinstance(resource, str))
        or not isinstance(pairs, list)
        or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs)
        or not isinstance(expires_at, (int, float))
        or not isinstance(epoch, int)
    ):
        return None, 0
    authorized = frozenset((path, privilege) for path, privilege in pairs)
    return Token(value, client_id, scope, resource, authorized, float(expires_at)), epoch


@dataclass(frozen=True)
class Caller:
    """Who makes a REST request: the principal and the token it presented.

    An action needs both the principal's grant and the token's scope: a token minted for table
    A must not read or drop table B even when its principal could.
    """

    principal: Principal
    token: Token

    def may(self, privilege: str, full_path: str) -> bool:
        return self.principal.has_privilege(privilege, full_path) and self.token.permits(privilege, full_path)
