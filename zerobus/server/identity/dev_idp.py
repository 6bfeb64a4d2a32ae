"""Internal: A development identity provider: the emulator issues the external-IdP JWTs it federates.

Federated authentication (RFC 8693 token exchange) needs tokens from an identity provider the
server trusts. A real IdP (Entra ID, Okta, a CI system) cannot run in a test, so the emulator
plays one: it signs HS256 JWTs with a key kept in the data directory (so its tokens stay valid
across restarts, like the access tokens) and verifies them when they are exchanged. Tokens of any
other issuer, or signed with any other key, are foreign and refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerobus.protocol.constants import JWT_TOKEN_TYPE
from zerobus.server.storage.atomic_files import atomic_write, ensure_directory

__all__ = [
    "DEV_IDP_AUDIENCE",
    "DEV_IDP_ISSUER",
    "DEV_IDP_TOKEN_PATH",
    "DevIdentityProvider",
    "IdpClaims",
    "SubjectTokenRefused",
    "issue_from_form",
]

logger = logging.getLogger(__name__)

# Constant (not the server's URL) so a token stays valid when a restarted server gets new ports.
DEV_IDP_ISSUER = "https://dev-idp.zerobus-emulator.invalid"
DEV_IDP_AUDIENCE = "zerobus-emulator"
_KEY_BYTES = 32


class SubjectTokenRefused(Exception):
    """The subject token cannot be exchanged; the message says which claim and why."""


@dataclass(frozen=True)
class IdpClaims:
    """The verified claims of a subject token that federation policies look at."""

    issuer: str
    subject: str
    audiences: tuple[str, ...]
    expires_at: float


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class DevIdentityProvider:
    """Issues and verifies HS256 JWTs of issuer `DEV_IDP_ISSUER` (injected clock for tests)."""

    def __init__(self, key_file: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.issuer = DEV_IDP_ISSUER
        # Wall-clock seconds; public so a test can move a running server's time forward.
        self.clock = clock
        self._key = self._load_or_create(key_file)

    def issue(self, subject: str, audience: str = DEV_IDP_AUDIENCE, lifetime_s: float = 3600.0) -> str:
        """A JWT saying `subject` is who the IdP vouches for, valid for `lifetime_s`."""
        if not isinstance(subject, str) or not subject:
            raise ValueError(f"subject must be a non-empty string, got {subject!r}")
        if not lifetime_s > 0:
            raise ValueError(f"lifetime_s must be > 0, got {lifetime_s!r}")
        now = self.clock()
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now),
            "exp": int(now + lifetime_s),
            "jti": secrets.token_hex(8),
        }
        header = _b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode("utf-8"))
        payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{_b64encode(self._mac(signing_input))}"

    def verify(self, token: str) -> IdpClaims:
        """The claims of a token this IdP issued and that has not expired; else `SubjectTokenRefused`."""
        header, payload = _decode_jwt(token)
        issuer = payload.get("iss")
        if issuer != self.issuer:
            raise SubjectTokenRefused(
                f"subject_token issuer {issuer!r} is not trusted by any federation policy "
                f"(this server trusts {self.issuer!r})"
            )
        if header.get("alg") != "HS256":
            raise SubjectTokenRefused(f"subject_token alg {header.get('alg')!r} is not supported (HS256)")
        signing_input, _, signature = token.rpartition(".")
        try:
            given = _b64decode(signature)
        except (ValueError, binascii.Error):
            given = b""
        if not hmac.compare_digest(given, self._mac(signing_input)):
            raise SubjectTokenRefused("subject_token signature does not verify with the issuer's key")
        subject, expires_at = payload.get("sub"), payload.get("exp")
        if not isinstance(subject, str) or not subject:
            raise SubjectTokenRefused(f"subject_token has no 'sub' claim (got {subject!r})")
        if isinstance(expires_at, bool) or not isinstance(expires_at, (int, float)):
            raise SubjectTokenRefused(f"subject_token has no numeric 'exp' claim (got {expires_at!r})")
        now = self.clock()
        if expires_at <= now:
            raise SubjectTokenRefused(
                f"subject_token expired {now - expires_at:.0f} s ago (exp={expires_at})"
            )
        return IdpClaims(issuer, subject, _audiences(payload.get("aud")), float(expires_at))

    def _mac(self, signing_input: str) -> bytes:
        return hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest()

    @staticmethod
    def _load_or_create(key_file: Path | None) -> bytes:
        if key_file is not None and key_file.exists():
            try:
                key = bytes.fromhex(json.loads(key_file.read_text(encoding="utf-8"))["key"])
                if len(key) == _KEY_BYTES:
                    return key
            except (OSError, ValueError, KeyError, TypeError) as error:
                logger.error("unreadable dev IdP key %s (%s): earlier IdP tokens are void", key_file, error)
        key = secrets.token_bytes(_KEY_BYTES)
        if key_file is not None:
            ensure_directory(key_file.parent)
            atomic_write(key_file, json.dumps({"key": key.hex()}).encode("utf-8"))
        return key


def _decode_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, unverified; `SubjectTokenRefused` if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SubjectTokenRefused(
            f"subject_token is not a JWT (expected 3 dot-separated parts, got {len(parts)})"
        )
    try:
        header = json.loads(_b64decode(parts[0]))
        payload = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise SubjectTokenRefused(
            "subject_token is not a JWT (header or payload is not base64url JSON)"
        ) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise SubjectTokenRefused("subject_token is not a JWT (header and payload must be JSON objects)")
    return header, payload


def _audiences(claim: Any) -> tuple[str, ...]:
    """RFC 7519: `aud` is one string or a list of them."""
    if isinstance(claim, str):
        return (claim,)
    if isinstance(claim, list):
        return tuple(item for item in claim if isinstance(item, str))
    return ()


DEV_IDP_TOKEN_PATH = "/dev-idp/token"


def issue_from_form(idp: DevIdentityProvider, form: dict[str, str]) -> dict[str, Any]:
    """``POST /dev-idp/token`` (``subject``, optional ``audience`` and ``expires_in``): a fresh IdP JWT.

    `ValueError` names the field and value when the form is wrong.
    """
    subject = form.get("subject", "")
    if not subject:
        raise ValueError("subject is required: the identity the IdP token vouches for")
    lifetime_text = form.get("expires_in", "3600")
    if not lifetime_text.isascii() or not lifetime_text.isdigit() or not 0 < int(lifetime_text) <= 86400:
        raise ValueError(
            f"expires_in must be a whole number of seconds from 1 to 86400, got {lifetime_text!r}"
        )
    lifetime = int(lifetime_text)
    token = idp.issue(subject, form.get("audience") or DEV_IDP_AUDIENCE, lifetime)
    return {"id_token": token, "token_type": JWT_TOKEN_TYPE_NAME, "expires_in": lifetime}


JWT_TOKEN_TYPE_NAME = JWT_TOKEN_TYPE
