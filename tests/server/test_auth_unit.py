"""Grants and tokens without sockets (the state the wire handlers consult)."""

from __future__ import annotations

import pytest

from zerobus.server.auth import AuthError, Grant, Principal, PrincipalRegistry, TokenIssuer


def test_grants_inherit_down_the_hierarchy() -> None:
    principal = Principal(
        "p", "s", (Grant("main", ["USE CATALOG", "MODIFY"]), Grant("main.s1.t", ["SELECT"]))
    )
    assert principal.has_privilege("MODIFY", "main.s1.t") and principal.has_privilege("modify", "main.s2.x")
    assert principal.has_privilege("SELECT", "main.s1.t")
    assert not principal.has_privilege("SELECT", "main.s1.other")
    assert not principal.has_privilege("MODIFY", "mainly.s1.t")  # a prefix is not an ancestor
    everything = Principal("a", "s", (Grant("*", ["ALL PRIVILEGES"]),))
    assert everything.has_privilege("CREATE TABLE", "any.schema")


def test_bad_grants_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown privileges"):
        Grant("main", ["WRITE"])
    with pytest.raises(ValueError, match="securable"):
        Grant("a.b.c.d", ["SELECT"])
    with pytest.raises(ValueError, match="securable"):
        Grant("a..c", ["SELECT"])


def test_tokens_expire_on_the_injected_clock() -> None:
    now = [100.0]
    issuer = TokenIssuer(lifetime_s=60, clock=lambda: now[0])
    token = issuer.issue(
        Principal("p", "s"), "all-apis", "api://x/zerobusDirectWriteApi", [("a.b.c", "MODIFY")]
    )
    assert issuer.validate(token.value).is_ingest_token
    now[0] += 59
    assert issuer.validate(token.value) == token
    now[0] += 2
    with pytest.raises(AuthError, match="expired"):
        issuer.validate(token.value)
    with pytest.raises(AuthError, match="Invalid"):
        issuer.validate("nope")


def test_registry_authenticates_by_secret() -> None:
    registry = PrincipalRegistry()
    registry.add(Principal("p", "right"))
    assert registry.authenticate("p", "right").client_id == "p"
    with pytest.raises(AuthError) as refused:
        registry.authenticate("p", "wrong")
    assert refused.value.status == 401
