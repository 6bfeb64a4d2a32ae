"""Internal: Exchanged tokens kept per identity and table until they near their expiry.

A federated token costs a call to the identity provider and one to the token endpoint, and the
workspace grants it for as long as it says (``expires_in``, never past the subject token's own
expiry), so one SDK object reuses it for every stream and reconnect of the same identity and
table. A token is renewed once less than ``min(refresh_lead_s, lifetime / 2)`` remains (so a
short-lived token is not born stale); when renewal fails while the old one is still valid, the
old one is served. `invalidate` drops a token the server refused, so the next use exchanges
anew. A token without a lifetime is never cached. One lock per key: streams opened together
exchange once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from zerobus.errors import ZerobusException

__all__ = ["DEFAULT_REFRESH_LEAD_S", "MintedToken", "TokenCache"]

logger = logging.getLogger(__name__)

DEFAULT_REFRESH_LEAD_S = 300.0


@dataclass(frozen=True)
class MintedToken:
    """A token and the wall-clock time it expires at (None: unknown, so it is not cached)."""

    value: str
    expires_at: float | None


@dataclass(frozen=True)
class _Entry:
    value: str
    expires_at: float
    lifetime_s: float


class TokenCache:
    """Tokens by key (thread-safe); `clock` is wall-clock seconds, injectable for tests."""

    def __init__(
        self, clock: Callable[[], float] = time.time, refresh_lead_s: float = DEFAULT_REFRESH_LEAD_S
    ) -> None:
        self.clock = clock
        self.refresh_lead_s = refresh_lead_s
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, mint: Callable[[], MintedToken]) -> tuple[str, bool]:
        """The token for `key` and whether it came from the cache (False: `mint` just made it)."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            cached = self._entries.get(key)
            now = self.clock()
            if cached is not None and not self._due(cached, now):
                return cached.value, True
            started = now
            try:
                minted = mint()
            except ZerobusException as error:
                if cached is not None and cached.expires_at > self.clock():
                    logger.warning(
                        "renewing a cached token failed (%s); the cached one is still valid", error
                    )
                    return cached.value, True
                raise
            if minted.expires_at is None:
                logger.warning("the token endpoint gave no expires_in: the token is not cached")
                self._entries.pop(key, None)
                return minted.value, False
            now = self.clock()
            if minted.expires_at <= now:
                raise ZerobusException(
                    "the exchanged token had expired by the time it arrived (its subject token "
                    "expires too soon?)"
                )
            self._entries[key] = _Entry(minted.value, minted.expires_at, minted.expires_at - started)
            return minted.value, False

    def invalidate(self, key: Hashable, value: str | None = None) -> bool:
        """Drop the token of `key` (only if it is still `value`, when given); True if one was dropped."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            cached = self._entries.get(key)
            if cached is None or (value is not None and cached.value != value):
                return False
            del self._entries[key]
            return True

    def _due(self, entry: _Entry, now: float) -> bool:
        lead = min(self.refresh_lead_s, entry.lifetime_s / 2)
        return now >= entry.expires_at - lead
