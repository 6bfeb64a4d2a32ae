"""The RFC 8693 token-exchange grant and the development IdP, over real HTTP."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from zerobus.server import LocalZerobusServer
from zerobus.server.cli import banner
from zerobus.server.identity.dev_idp import (
    DEV_IDP_AUDIENCE,
    DEV_IDP_ISSUER,
    DevIdentityProvider,
    SubjectTokenRefused,
)
from zerobus.server.identity.token_exchange import FederationPolicy
from zerobus.token_exchange import exchange_form

TABLES = "/api/2.1/unity-catalog/tables/"


def _exchange(server: LocalZerobusServer, **fields: str) -> requests.Response:
    return requests.post(server.workspace_url + "/oidc/v1/token", data=fields, timeout=10)


def _form(
    server: LocalZerobusServer, table: str, subject_token: str, client_id: str | None = None
) -> dict[str, str]:
    from zerobus.endpoints import parse_table_name

    return exchange_form(parse_table_name(table), "1234", subject_token, client_id)


def _expired_idp_token(server: LocalZerobusServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(server.core.idp, "clock", lambda: time.time() - 7200)
    token = server.idp_token(lifetime_s=3600)
    monkeypatch.undo()
    return token


def _jwt(header: Any, claims: Any, signature: bytes = b"sig") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}.{part(signature)}"


def test_an_idp_token_is_exchanged_for_a_table_scoped_access_token(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table, other = zerobus_table("id BIGINT"), zerobus_table("id BIGINT")
    idp = requests.post(
        zerobus_server.workspace_url + "/dev-idp/token",
        data={"subject": zerobus_server.client_id},
        timeout=10,
    )
    assert idp.status_code == 200, idp.text
    response = _exchange(zerobus_server, **_form(zerobus_server, table, idp.json()["id_token"]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert 0 < body["expires_in"] <= 3600
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(zerobus_server.workspace_url + TABLES + table, headers=headers, timeout=10).ok
    # authorization_details narrowed it to `table`, as for client credentials.
    denied = requests.get(zerobus_server.workspace_url + TABLES + other, headers=headers, timeout=10)
    assert denied.status_code == 403


def test_the_access_token_dies_with_its_subject_token(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT")
    subject_token = zerobus_server.idp_token(lifetime_s=120)
    body = _exchange(zerobus_server, **_form(zerobus_server, table, subject_token)).json()
    assert 0 < body["expires_in"] <= 120


def test_workload_identity_federation_matches_the_principals_policy(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT")
    subject = f"repo:acme/app:{table}"
    zerobus_server.add_federation_policy(
        FederationPolicy(DEV_IDP_ISSUER, subject, ("api://acme",), client_id=zerobus_server.client_id)
    )
    good = zerobus_server.idp_token(subject, audience="api://acme")
    response = _exchange(zerobus_server, **_form(zerobus_server, table, good, zerobus_server.client_id))
    assert response.status_code == 200, response.text
    wrong_audience = zerobus_server.idp_token(subject, audience="api://other")
    response = _exchange(
        zerobus_server, **_form(zerobus_server, table, wrong_audience, zerobus_server.client_id)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "no federation policy of service principal" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("case", "status", "error", "message"),
    [
        ("missing_subject_token", 400, "invalid_request", "subject_token is required"),
        ("wrong_token_type", 400, "invalid_request", "subject_token_type must be"),
        ("no_all_apis_scope", 400, "invalid_scope", "scope must include 'all-apis', got 'sql'"),
        ("not_a_jwt", 400, "invalid_grant", "not a JWT (expected 3 dot-separated parts, got 1)"),
        ("garbage_jwt", 400, "invalid_grant", "not a JWT (header or payload is not base64url JSON)"),
        ("non_ascii_jwt", 400, "invalid_grant", "not a JWT (header or payload is not base64url JSON)"),
        ("foreign_issuer", 400, "invalid_grant", "issuer 'https://sts.example.com' is not trusted"),
        ("forged_signature", 400, "invalid_grant", "signature does not verify"),
        ("alg_none", 400, "invalid_grant", "alg 'none' is not supported"),
        ("expired", 400, "invalid_grant", "subject_token expired"),
        (
            "unknown_subject",
            400,
            "invalid_grant",
            "subject 'no-such-principal' of the subject_token is not a principal",
        ),
        ("unknown_client_id", 400, "invalid_grant", "client_id 'ghost' is not a service principal"),
        ("no_policy_for_client", 400, "invalid_grant", "no federation policy of service principal"),
    ],
)
def test_refusals_name_the_reason(
    zerobus_server: LocalZerobusServer,
    zerobus_table: Any,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    status: int,
    error: str,
    message: str,
) -> None:
    table = zerobus_table("id BIGINT")
    server = zerobus_server
    valid = server.idp_token()
    now = time.time() + 600
    form = _form(server, table, valid)
    if case == "missing_subject_token":
        del form["subject_token"]
    elif case == "wrong_token_type":
        form["subject_token_type"] = "urn:ietf:params:oauth:token-type:saml2"
    elif case == "no_all_apis_scope":
        form["scope"] = "sql"
    elif case == "not_a_jwt":
        form["subject_token"] = "opaque"
    elif case == "garbage_jwt":
        form["subject_token"] = "%%%.###.sig"
    elif case == "non_ascii_jwt":
        form["subject_token"] = "\u00e9.\u00e9.\u00e9"
    elif case == "foreign_issuer":
        form["subject_token"] = _jwt(
            {"alg": "HS256"}, {"iss": "https://sts.example.com", "sub": "x", "exp": now}
        )
    elif case == "forged_signature":
        form["subject_token"] = _jwt(
            {"alg": "HS256"}, {"iss": DEV_IDP_ISSUER, "sub": server.client_id, "exp": now}
        )
    elif case == "alg_none":
        form["subject_token"] = _jwt(
            {"alg": "none"}, {"iss": DEV_IDP_ISSUER, "sub": server.client_id, "exp": now}
        )
    elif case == "expired":
        form["subject_token"] = _expired_idp_token(server, monkeypatch)
    elif case == "unknown_subject":
        form["subject_token"] = server.idp_token("no-such-principal")
    elif case == "unknown_client_id":
        form["client_id"] = "ghost"
    elif case == "no_policy_for_client":
        form["client_id"] = server.client_id
        form["subject_token"] = server.idp_token(f"unlisted-{table}")
    response = _exchange(server, **form)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert message in body["error_description"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "subject is required"),
        (
            {"subject": "a", "expires_in": "0"},
            "expires_in must be a whole number of seconds from 1 to 86400, got '0'",
        ),
        ({"subject": "a", "expires_in": "86401"}, "got '86401'"),
        ({"subject": "a", "expires_in": "-5"}, "got '-5'"),
        ({"subject": "a", "expires_in": "1.5"}, "got '1.5'"),
        ({"subject": "a", "expires_in": "\u0661\u0662"}, "expires_in must be a whole number"),
    ],
)
def test_dev_idp_endpoint_refuses_bad_forms(
    zerobus_server: LocalZerobusServer, fields: dict[str, str], message: str
) -> None:
    response = requests.post(zerobus_server.workspace_url + "/dev-idp/token", data=fields, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert message in response.json()["error_description"]


def test_unsupported_grant_type_names_the_value(zerobus_server: LocalZerobusServer) -> None:
    response = requests.post(
        zerobus_server.workspace_url + "/oidc/v1/token",
        data={"grant_type": "password", "scope": "all-apis"},
        auth=(zerobus_server.client_id, zerobus_server.client_secret),
        timeout=10,
    )
    assert response.status_code == 400
    assert "got 'password'" in response.json()["error_description"]


def test_idp_tokens_stay_valid_across_a_restart(tmp_path: Path) -> None:
    tables = {"main.default.t": "id BIGINT"}
    with LocalZerobusServer(data_dir=tmp_path, tables=tables) as before:
        token = before.idp_token()
    with LocalZerobusServer(data_dir=tmp_path) as after:
        response = _exchange(after, **_form(after, "main.default.t", token))
        assert response.status_code == 200, response.text


def test_dev_idp_unit_checks() -> None:
    clock = [1_000.0]
    idp = DevIdentityProvider(clock=lambda: clock[0])
    token = idp.issue("alice", audience=DEV_IDP_AUDIENCE, lifetime_s=60)
    claims = idp.verify(token)
    assert (claims.issuer, claims.subject, claims.audiences) == (DEV_IDP_ISSUER, "alice", (DEV_IDP_AUDIENCE,))
    clock[0] += 60  # exactly at exp: expired
    with pytest.raises(SubjectTokenRefused, match="expired"):
        idp.verify(token)
    with pytest.raises(SubjectTokenRefused, match="signature"):
        DevIdentityProvider(clock=lambda: 0.0).verify(token)  # another key
    for bad in ("", None):
        with pytest.raises(ValueError, match="subject"):
            idp.issue(bad)  # type: ignore[arg-type]


def test_banner_tells_how_to_get_an_idp_token() -> None:
    text = banner("http://127.0.0.1:1", "http://127.0.0.1:2", "/data")
    assert "http://127.0.0.1:2/dev-idp/token" in text and "RFC 8693" in text
