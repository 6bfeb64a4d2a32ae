"""Grants and tokens without sockets (the state the wire handlers consult)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from zerobus.server.identity.auth import AuthError, Grant, Principal, PrincipalRegistry, Token, TokenIssuer


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
    for look_alike in ("main\n", "main.default.t ", "caf\u00e9", "a." + "b" * 256, ""):
        with pytest.raises(ValueError, match="securable"):
            Grant(look_alike, ["SELECT"])


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


def _ingest(issuer: TokenIssuer) -> Token:
    return issuer.issue(
        Principal("p", "s"), "all-apis", "api://x/zerobusDirectWriteApi", [("a.b.c", "MODIFY")]
    )


def test_tokens_stay_valid_across_a_restart_until_they_expire(tmp_path: Path) -> None:
    now = [1_000.0]
    key_file = tmp_path / "auth" / "token_key.json"
    token = _ingest(TokenIssuer(lifetime_s=60, clock=lambda: now[0], key_file=key_file))
    restarted = TokenIssuer(lifetime_s=60, clock=lambda: now[0], key_file=key_file)
    assert restarted.validate(token.value) == token
    now[0] += 59.5
    assert restarted.validate(token.value).authorized == {("a.b.c", "MODIFY")}
    now[0] += 1
    with pytest.raises(AuthError, match="expired") as expired:
        TokenIssuer(lifetime_s=60, clock=lambda: now[0], key_file=key_file).validate(token.value)
    assert expired.value.status == 401
    assert stat.S_IMODE((tmp_path / "auth").stat().st_mode) == 0o700  # the key mints tokens: keep it private


def test_tokens_of_another_key_or_tampered_with_are_invalid(tmp_path: Path) -> None:
    token = _ingest(TokenIssuer(lifetime_s=60, key_file=tmp_path / "one.json"))
    with pytest.raises(AuthError, match="Invalid"):
        TokenIssuer(lifetime_s=60, key_file=tmp_path / "two.json").validate(token.value)
    with pytest.raises(AuthError, match="Invalid"):
        TokenIssuer(lifetime_s=60).validate(token.value)  # no key file: a key of its own
    issuer = TokenIssuer(lifetime_s=60, key_file=tmp_path / "one.json")
    payload, _, signature = token.value.partition(".")
    forged_claims = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    for forged in (
        f"{forged_claims}.{signature}",
        f"{payload}.{signature[:-2]}",
        payload,
        "dzb",
        "",
        "dzb.",
        "dzb\u00e9.x",
        "dzb!!.!!",
    ):
        with pytest.raises(AuthError, match="Invalid"):
            issuer.validate(forged)


def test_expiring_all_tokens_survives_a_restart(tmp_path: Path) -> None:
    key_file = tmp_path / "token_key.json"
    issuer = TokenIssuer(lifetime_s=60, key_file=key_file)
    old = _ingest(issuer)
    issuer.expire_all()
    fresh = _ingest(issuer)
    restarted = TokenIssuer(lifetime_s=60, key_file=key_file)
    with pytest.raises(AuthError, match="expired"):
        restarted.validate(old.value)
    assert restarted.validate(fresh.value) == fresh


def test_an_unreadable_key_file_voids_earlier_tokens_but_the_server_starts(tmp_path: Path) -> None:
    key_file = tmp_path / "token_key.json"
    token = _ingest(TokenIssuer(lifetime_s=60, key_file=key_file))
    key_file.write_text("{not json")
    issuer = TokenIssuer(lifetime_s=60, key_file=key_file)
    with pytest.raises(AuthError, match="Invalid"):
        issuer.validate(token.value)
    assert issuer.validate(_ingest(issuer).value).client_id == "p"


def test_scoped_tokens_permit_only_what_they_name() -> None:
    token = _ingest(TokenIssuer(lifetime_s=60))
    assert token.is_scoped and token.permits("modify", "A.B.C")
    assert not token.permits("SELECT", "a.b.c") and not token.permits("MODIFY", "a.b.other")
    assert not token.permits("MANAGE", "a.b.c") and not token.permits("MODIFY", "a.b")
    unscoped = TokenIssuer(lifetime_s=60).issue(Principal("p", "s"), "all-apis", None)
    assert not unscoped.is_scoped and unscoped.permits("MANAGE", "x.y.z")


@pytest.mark.parametrize("privileges", ["SELECT", b"SELECT", [1], ["SELECT", None]])
def test_grants_refuse_privileges_that_are_not_a_list_of_names(privileges: object) -> None:
    with pytest.raises(ValueError, match="privileges must be a list of privilege names"):
        Grant("main", privileges)  # type: ignore[arg-type]
