"""Internal: Self-verifying bearer tokens: claims signed with a server key kept in the data directory.

The official SDK caches its token for the token's whole `expires_in` and reuses it across
reconnects (docs/PROTOCOL.md section 8), so a token must stay valid when the server restarts. A token
carries its own claims (principal, scope, resource, authorization details, expiry) and an
HMAC-SHA256 over them, so the server needs no token store: only the key, which a restarted
server reads back. The key file also holds the revocation epoch: tokens minted before the last
`revoke_all` are refused, across restarts too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from zerobus.server.storage.atomic_files import atomic_write, ensure_directory

__all__ = ["TOKEN_PREFIX", "TokenSigner"]

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "dzb"
_KEY_BYTES = 32


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs claims into token strings and checks them; the key lives in `key_file` (or memory).

    With `key_file` None the key is random per instance: tokens then die with the process,
    which is what a server without a data directory promises.
    """

    def __init__(self, key_file: Path | None = None) -> None:
        self._key_file = key_file
        self._lock = threading.Lock()
        self._key, self._epoch = self._load_or_create()

    @property
    def epoch(self) -> int:
        """Tokens signed in an earlier epoch are revoked."""
        with self._lock:
            return self._epoch

    def sign(self, claims: dict[str, Any]) -> str:
        """A token string carrying `claims` (JSON values) and the current epoch."""
        with self._lock:
            key, epoch = self._key, self._epoch
        payload = _b64encode(json.dumps({**claims, "ep": epoch}, separators=(",", ":")).encode("utf-8"))
        return f"{TOKEN_PREFIX}{payload}.{_b64encode(self._mac(key, payload))}"

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this server signed (with its `ep`), or None for anything else."""
        body = token.removeprefix(TOKEN_PREFIX)
        payload, dot, signature = body.partition(".")
        if body == token or not dot:
            return None
        with self._lock:
            key = self._key
        try:
            given = _b64decode(signature)
            if not hmac.compare_digest(given, self._mac(key, payload)):
                return None
            claims = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            return None
        return claims if isinstance(claims, dict) else None

    def revoke_all(self) -> None:
        """Refuse every token signed so far (the new epoch is saved with the key)."""
        with self._lock:
            self._epoch += 1
            self._save(self._key, self._epoch)

    @staticmethod
    def _mac(key: bytes, payload: str) -> bytes:
        return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()

    def _load_or_create(self) -> tuple[bytes, int]:
        if self._key_file is not None and self._key_file.exists():
            try:
                stored = json.loads(self._key_file.read_text(encoding="utf-8"))
                key = bytes.fromhex(stored["key"])
                epoch = stored["epoch"]
                if len(key) == _KEY_BYTES and isinstance(epoch, int):
                    return key, epoch
            except (OSError, ValueError, KeyError, TypeError) as error:
                logger.error("unreadable token key %s (%s): earlier tokens are void", self._key_file, error)
            else:
                logger.error("malformed token key %s: earlier tokens are void", self._key_file)
        key = secrets.token_bytes(_KEY_BYTES)
        self._save(key, 0)
        return key, 0

    def _save(self, key: bytes, epoch: int) -> None:
        if self._key_file is None:
            return
        directory = self._key_file.parent
        ensure_directory(directory)
        os.chmod(directory, 0o700)  # the key lets anyone who reads it mint tokens
        atomic_write(self._key_file, json.dumps({"key": key.hex(), "epoch": epoch}).encode("utf-8"))
