"""The exchanged-token cache and the token-exchange form, with an injected clock (no I/O)."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import threading

import pytest

from zerobus.endpoints import parse_table_name
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.sdk.shared import FederatedToken
from zerobus.sdk.shared.token_cache import MintedToken, TokenCache
from zerobus.token_exchange import exchange_form, unverified_expiry


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Minter:
    """Hands out token-1, token-2, ... each valid for `lifetime_s` from the clock's now."""

    def __init__(self, clock: Clock, lifetime_s: float | None = 3600.0) -> None:
        self.clock, self.lifetime_s, self.calls = clock, lifetime_s, 0
        self.fail_with: ZerobusException | None = None

    def __call__(self) -> MintedToken:
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        expires = None if self.lifetime_s is None else self.clock.now + self.lifetime_s
        return MintedToken(f"token-{self.calls}", expires)


def test_a_token_is_reused_until_it_nears_expiry() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock, refresh_lead_s=300), Minter(clock)
    assert cache.get("k", mint) == ("token-1", False)
    clock.now += 3299  # 301 s left: still served
    assert cache.get("k", mint) == ("token-1", True)
    clock.now += 2  # 299 s left: inside the 300 s lead, renewed
    assert cache.get("k", mint) == ("token-2", False)
    assert mint.calls == 2


def test_a_short_lived_token_is_not_born_stale() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock, refresh_lead_s=300), Minter(clock, lifetime_s=120)
    cache.get("k", mint)
    clock.now += 59  # lead is min(300, 120 / 2) = 60 s
    assert cache.get("k", mint) == ("token-1", True)
    clock.now += 2
    assert cache.get("k", mint) == ("token-2", False)


def test_identities_and_tables_do_not_share_tokens() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock), Minter(clock)
    assert cache.get(("a", "t1"), mint)[0] == "token-1"
    assert cache.get(("b", "t1"), mint)[0] == "token-2"
    assert cache.get(("a", "t2"), mint)[0] == "token-3"
    assert cache.get(("a", "t1"), mint)[0] == "token-1"


def test_invalidate_drops_the_refused_token_only() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock), Minter(clock)
    cache.get("k", mint)
    assert cache.invalidate("k", "some-other-token") is False  # a newer token is kept
    assert cache.get("k", mint) == ("token-1", True)
    assert cache.invalidate("k") is True
    assert cache.invalidate("k") is False  # nothing cached any more
    assert cache.get("k", mint) == ("token-2", False)


def test_a_failed_renewal_serves_the_still_valid_token_but_not_an_expired_one() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock, refresh_lead_s=300), Minter(clock)
    cache.get("k", mint)
    clock.now += 3500
    mint.fail_with = ZerobusException("token endpoint unavailable")
    assert cache.get("k", mint) == ("token-1", True)
    clock.now += 100  # expired now
    with pytest.raises(ZerobusException, match="unavailable"):
        cache.get("k", mint)


def test_a_token_without_lifetime_is_never_cached() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock), Minter(clock, lifetime_s=None)
    assert cache.get("k", mint) == ("token-1", False)
    assert cache.get("k", mint) == ("token-2", False)


def test_a_token_dead_on_arrival_is_an_error() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock), Minter(clock, lifetime_s=0)
    with pytest.raises(ZerobusException, match="expired by the time it arrived"):
        cache.get("k", mint)


def _jwt(claims: object) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (_jwt({"exp": 1234}), 1234.0),
        (_jwt({"exp": 12.5}), 12.5),
        (_jwt({"exp": "1234"}), None),
        (_jwt({"exp": True}), None),
        (_jwt({"sub": "x"}), None),
        (_jwt([1, 2]), None),
        ("not-a-jwt", None),
        ("a.%%%.c", None),
    ],
)
def test_unverified_expiry(token: str, expected: float | None) -> None:
    assert unverified_expiry(token) == expected


def test_exchange_form_is_the_ingest_form_with_the_grant_of_rfc_8693() -> None:
    table = parse_table_name("main.default.events")
    form = exchange_form(table, "1234", "the-jwt", None)
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert form["subject_token"] == "the-jwt"
    assert form["subject_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert form["scope"] == "all-apis"
    assert form["resource"] == "api://databricks/workspaces/1234/zerobusDirectWriteApi"
    assert json.loads(form["authorization_details"])[2]["object_full_path"] == "main.default.events"
    assert "client_id" not in form  # account-wide federation
    assert exchange_form(table, "1234", "the-jwt", "sp-1")["client_id"] == "sp-1"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"idp_token_supplier": "not callable"}, "idp_token_supplier"),
        ({"idp_token_supplier": lambda: "t", "databricks_client_id": ""}, "databricks_client_id"),
        ({"idp_token_supplier": lambda: "t", "databricks_client_id": 42}, "databricks_client_id"),
    ],
)
def test_federated_token_refuses_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        FederatedToken(**kwargs)  # type: ignore[arg-type]


def test_federated_token_is_frozen_and_each_instance_is_its_own_identity() -> None:
    def supplier() -> str:
        return "t"

    first, second = FederatedToken(supplier), FederatedToken(supplier)
    assert first == second  # same arguments compare equal, as in the official SDK
    assert first._cache_identity != second._cache_identity
    with pytest.raises(AttributeError):
        first.databricks_client_id = "x"  # type: ignore[misc]


def test_streams_asking_at_once_exchange_once() -> None:
    clock = Clock()
    cache, mint = TokenCache(clock), Minter(clock)
    release = threading.Event()

    def slow_mint() -> MintedToken:
        release.wait(30)
        return mint()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = [pool.submit(cache.get, "k", slow_mint) for _ in range(8)]
        release.set()
        tokens = {future.result(30)[0] for future in results}
    assert tokens == {"token-1"} and mint.calls == 1
