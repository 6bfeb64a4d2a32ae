"""A token narrowed by `authorization_details` allows on REST only what it names."""

from __future__ import annotations

import requests

from tests.server.wire_client import ingest_token
from zerobus.oauth import fetch_metadata_token
from zerobus.server import LocalZerobusServer

TABLES = "/api/2.1/unity-catalog/tables"


def _request(server: LocalZerobusServer, method: str, path: str, token: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.request(
        method,
        server.workspace_url + path,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kwargs,
    )


def _create_body(full_name: str) -> dict[str, object]:
    catalog, schema, name = full_name.split(".")
    columns = [{"name": "id", "type_text": "bigint", "position": 0}]
    return {"catalog_name": catalog, "schema_name": schema, "name": name, "columns": columns}


def test_ingest_token_for_one_table_cannot_read_list_create_or_drop_others(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:
    mine = zerobus_table("id BIGINT")
    other = zerobus_table("id BIGINT")
    token = ingest_token(zerobus_server, mine)  # the dev principal may do anything: only the scope limits

    assert _request(zerobus_server, "GET", f"{TABLES}/{mine}", token).status_code == 200
    refused = _request(zerobus_server, "GET", f"{TABLES}/{other}", token)
    assert refused.status_code == 403 and refused.json()["error_code"] == "PERMISSION_DENIED"
    assert other in refused.json()["message"]
    rows = _request(zerobus_server, "GET", f"/api/2.0/zerobus-emulator/tables/{other}/rows", token)
    assert rows.status_code == 403

    catalog, schema, _ = mine.split(".")
    listed = _request(
        zerobus_server, "GET", TABLES, token, params={"catalog_name": catalog, "schema_name": schema}
    )
    assert listed.status_code == 200
    assert [t["full_name"] for t in listed.json()["tables"]] == [mine]

    for victim in (other, mine):  # the scope names SELECT and MODIFY, never MANAGE
        dropped = _request(zerobus_server, "DELETE", f"{TABLES}/{victim}", token)
        assert dropped.status_code == 403, dropped.text
    created = _request(zerobus_server, "POST", TABLES, token, json=_create_body(f"{catalog}.{schema}.sneaky"))
    assert created.status_code == 403 and "CREATE TABLE" in created.json()["message"]

    # Nothing was dropped or created behind the refusals.
    metadata = fetch_metadata_token(zerobus_server.workspace_url, *_dev(zerobus_server))
    assert _request(zerobus_server, "GET", f"{TABLES}/{other}", metadata).status_code == 200
    assert _request(zerobus_server, "GET", f"{TABLES}/{catalog}.{schema}.sneaky", metadata).status_code == 404


def test_metadata_token_keeps_the_principals_grants(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:
    first = zerobus_table("id BIGINT")
    second = zerobus_table("id BIGINT")
    token = fetch_metadata_token(zerobus_server.workspace_url, *_dev(zerobus_server))
    catalog, schema, _ = first.split(".")
    listed = _request(
        zerobus_server, "GET", TABLES, token, params={"catalog_name": catalog, "schema_name": schema}
    )
    assert {first, second} <= {t["full_name"] for t in listed.json()["tables"]}
    made = f"{catalog}.{schema}.scope_made_by_metadata"
    assert _request(zerobus_server, "POST", TABLES, token, json=_create_body(made)).status_code == 200
    assert _request(zerobus_server, "DELETE", f"{TABLES}/{made}", token).status_code == 200
    assert _request(zerobus_server, "GET", f"{TABLES}/{second}", token).status_code == 200


def test_token_scope_is_checked_case_insensitively(zerobus_server: LocalZerobusServer, zerobus_table) -> None:
    mine = zerobus_table("id BIGINT")
    token = ingest_token(zerobus_server, mine)
    assert _request(zerobus_server, "GET", f"{TABLES}/{mine.upper()}", token).status_code == 200


def _dev(server: LocalZerobusServer) -> tuple[str, str]:
    return server.client_id, server.client_secret
