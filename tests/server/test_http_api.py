"""OAuth token endpoint and Unity Catalog REST over real HTTP."""

from __future__ import annotations

import json

import pytest
import requests

from tests.server.wire_client import get_token, ingest_token, open_stream
from zerobus.oauth import fetch_ingest_token, fetch_metadata_token
from zerobus.schema.uc_json import schema_from_uc_json
from zerobus.server import Grant, LocalZerobusServer

TABLES = "/api/2.1/unity-catalog/tables"


def _get(server: LocalZerobusServer, path: str, token: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    return requests.get(
        server.workspace_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10, **kwargs
    )


def _metadata_token(
    server: LocalZerobusServer, client_id: str | None = None, secret: str | None = None
) -> str:
    return fetch_metadata_token(
        server.workspace_url, client_id or server.client_id, secret or server.client_secret
    )


def test_ingest_token_as_the_sdk_requests_it(zerobus_server: LocalZerobusServer, zerobus_table) -> None:
    name = zerobus_table("id BIGINT")
    token = fetch_ingest_token(
        zerobus_server.workspace_url, zerobus_server.grpc_endpoint, _name(name), *_dev(zerobus_server)
    )
    assert token
    response = get_token(zerobus_server, name)
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["access_token"]


def _name(full_name: str):  # type: ignore[no-untyped-def]
    from zerobus.endpoints import parse_table_name

    return parse_table_name(full_name)


def _dev(server: LocalZerobusServer) -> tuple[str, str]:
    return server.client_id, server.client_secret


def test_wrong_secret_is_401(zerobus_server: LocalZerobusServer, zerobus_table) -> None:
    name = zerobus_table("id BIGINT")
    response = get_token(zerobus_server, name, client_secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_client_is_401(zerobus_server: LocalZerobusServer) -> None:
    response = get_token(zerobus_server, "a.b.c", client_id="nobody", client_secret="x", ingest=False)
    assert response.status_code == 401


def test_missing_grant_is_refused_by_the_token_endpoint(
    zerobus_server: LocalZerobusServer, zerobus_table
) -> None:
    name = zerobus_table("id BIGINT")
    catalog, schema, _ = name.split(".")
    zerobus_server.add_principal(
        "reader",
        "r-secret",
        [
            Grant(catalog, ["USE CATALOG"]),
            Grant(f"{catalog}.{schema}", ["USE SCHEMA"]),
            Grant(name, ["SELECT"]),
        ],
    )
    response = get_token(zerobus_server, name, client_id="reader", client_secret="r-secret")
    assert response.status_code == 400
    body = response.json()
    assert "not authorized to the requested authorizations" in body["error_description"]
    assert "MODIFY" in body["error_description"] and name in body["error_description"]
    # A grant on the catalog is inherited by its tables.
    zerobus_server.add_principal(
        "writer", "w-secret", [Grant(catalog, ["USE CATALOG", "USE SCHEMA", "SELECT", "MODIFY"])]
    )
    assert get_token(zerobus_server, name, client_id="writer", client_secret="w-secret").status_code == 200


def test_principal_with_explicit_grants_can_stream(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT")
    catalog, schema, _ = kit.name.split(".")
    zerobus_server.add_principal(
        "svc",
        "svc-secret",
        [
            Grant(catalog, ["USE CATALOG"]),
            Grant(f"{catalog}.{schema}", ["USE SCHEMA"]),
            Grant(kit.name, ["SELECT", "MODIFY"]),
        ],
    )
    token = ingest_token(zerobus_server, kit.name, client_id="svc", client_secret="svc-secret")
    with open_stream(zerobus_server, kit.name, kit.descriptor, token=token) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1))
        assert stream.wait_acked(0)


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"grant_type": "password", "scope": "all-apis"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "sql"}, 400, "invalid_scope"),
        (
            {"grant_type": "client_credentials", "scope": "all-apis", "authorization_details": "[{"},
            400,
            "invalid_request",
        ),
    ],
)
def test_bad_token_requests(zerobus_server: LocalZerobusServer, form: dict, status: int, error: str) -> None:
    response = requests.post(
        zerobus_server.workspace_url + "/oidc/v1/token", data=form, auth=_dev(zerobus_server), timeout=10
    )
    assert response.status_code == status
    assert response.json()["error"] == error


ALL_TYPES = (
    "a TINYINT, b SMALLINT, c INT NOT NULL, d BIGINT, e FLOAT, f DOUBLE, g BOOLEAN, h BINARY, i STRING, "
    "j VARCHAR(10), k CHAR(3), l DECIMAL(10,2), m DATE, n TIMESTAMP, o TIMESTAMP_NTZ, p VARIANT, "
    "q ARRAY<INT>, r MAP<STRING, BIGINT>, s STRUCT<x: INT NOT NULL, y: ARRAY<STRING>> COMMENT 'nested'"
)


def test_get_table_has_the_uc_shape_for_every_type(zerobus_server: LocalZerobusServer, zerobus_table) -> None:
    import deltalake

    name = zerobus_table(ALL_TYPES)
    response = _get(zerobus_server, f"{TABLES}/{name}", _metadata_token(zerobus_server))
    assert response.status_code == 200
    table = response.json()
    catalog, schema, short = name.split(".")
    assert (table["catalog_name"], table["schema_name"], table["name"], table["full_name"]) == (
        catalog,
        schema,
        short,
        name,
    )
    assert table["table_type"] == "MANAGED" and table["data_source_format"] == "DELTA"
    deltalake.DeltaTable(table["storage_location"])  # opens
    columns = {c["name"]: c for c in table["columns"]}
    assert [c["position"] for c in table["columns"]] == list(range(19))
    assert columns["a"]["type_text"] == "tinyint" and columns["a"]["type_name"] == "BYTE"
    assert columns["d"]["type_name"] == "LONG"
    assert columns["l"]["type_text"] == "decimal(10,2)" and columns["l"]["type_name"] == "DECIMAL"
    assert columns["o"]["type_name"] == "TIMESTAMP_NTZ" and columns["p"]["type_name"] == "VARIANT"
    assert columns["q"]["type_text"] == "array<int>"
    assert columns["r"]["type_text"] == "map<string,bigint>"
    assert columns["s"]["type_text"] == "struct<x:int not null,y:array<string>>"
    assert columns["s"]["comment"] == "nested"
    assert columns["c"]["nullable"] is False and columns["a"]["nullable"] is True
    assert json.loads(columns["s"]["type_json"])["type"]["fields"][0]["nullable"] is False
    # The response round-trips to the same schema.
    assert schema_from_uc_json(table).columns == zerobus_server.table_schema(name).columns


def test_table_errors_are_databricks_json(zerobus_server: LocalZerobusServer, zerobus_table) -> None:
    name = zerobus_table("id BIGINT")
    token = _metadata_token(zerobus_server)
    missing = _get(zerobus_server, f"{TABLES}/main.tests.nope", token)
    assert missing.status_code == 404 and missing.json()["error_code"] == "TABLE_DOES_NOT_EXIST"
    assert "main.tests.nope" in missing.json()["message"]
    unauthenticated = _get(zerobus_server, f"{TABLES}/{name}", "bogus")
    assert unauthenticated.status_code == 401 and unauthenticated.json()["error_code"] == "UNAUTHENTICATED"
    zerobus_server.add_principal("nobody", "n-secret", [])
    forbidden = _get(
        zerobus_server, f"{TABLES}/{name}", _metadata_token(zerobus_server, "nobody", "n-secret")
    )
    assert forbidden.status_code == 403 and forbidden.json()["error_code"] == "PERMISSION_DENIED"
    bad_name = _get(zerobus_server, f"{TABLES}/only.two", token)
    assert bad_name.status_code == 400 and bad_name.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_create_list_and_delete_tables_over_rest(zerobus_server: LocalZerobusServer) -> None:
    token = _metadata_token(zerobus_server)
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "catalog_name": "rest",
        "schema_name": "s1",
        "name": "made",
        "columns": [
            {"name": "id", "type_text": "bigint", "nullable": False, "position": 0},
            {"name": "tags", "type_text": "array<string>", "position": 1},
        ],
        "comment": "via REST",
    }
    created = requests.post(zerobus_server.workspace_url + TABLES, json=body, headers=headers, timeout=10)
    assert created.status_code == 200, created.text
    assert created.json()["full_name"] == "rest.s1.made" and created.json()["comment"] == "via REST"
    again = requests.post(zerobus_server.workspace_url + TABLES, json=body, headers=headers, timeout=10)
    assert again.status_code == 409 and again.json()["error_code"] == "TABLE_ALREADY_EXISTS"
    bad = dict(body, name="bad", columns=[{"name": "x", "type_text": "interval"}])
    invalid = requests.post(zerobus_server.workspace_url + TABLES, json=bad, headers=headers, timeout=10)
    assert invalid.status_code == 400 and "x" in invalid.json()["message"]
    listed = _get(zerobus_server, TABLES, token, params={"catalog_name": "rest", "schema_name": "s1"})
    assert [t["full_name"] for t in listed.json()["tables"]] == ["rest.s1.made"]
    deleted = requests.delete(
        f"{zerobus_server.workspace_url}{TABLES}/rest.s1.made", headers=headers, timeout=10
    )
    assert deleted.status_code == 200
    assert _get(zerobus_server, f"{TABLES}/rest.s1.made", token).status_code == 404


def test_rows_endpoint_returns_json_values(zerobus_server: LocalZerobusServer, make_table) -> None:
    kit = make_table("id BIGINT, day DATE, amount DECIMAL(5,2), raw BINARY, attrs MAP<STRING,INT>")
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.batch(
            0,
            [
                json.dumps({"id": i, "day": i, "amount": "1.5", "raw": "AAE=", "attrs": {"k": i}})
                for i in range(3)
            ],
        )
        assert stream.wait_acked(0)
    response = _get(
        zerobus_server,
        f"/api/2.0/zerobus-emulator/tables/{kit.name}/rows",
        _metadata_token(zerobus_server),
        params={"limit": 2},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [
        {"id": 0, "day": "1970-01-01", "amount": "1.50", "raw": "AAE=", "attrs": {"k": 0}},
        {"id": 1, "day": "1970-01-02", "amount": "1.50", "raw": "AAE=", "attrs": {"k": 1}},
    ]


def test_unknown_route_is_404_json(zerobus_server: LocalZerobusServer) -> None:
    response = requests.get(zerobus_server.workspace_url + "/api/2.0/nothing", timeout=10)
    assert response.status_code == 404 and response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
