"""Client mistakes are 4xx / INVALID_ARGUMENT naming the field, value and reason, never 500 / INTERNAL."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import grpc
import pytest
import requests

from tests.server.wire_client import open_stream
from zerobus.oauth import fetch_metadata_token
from zerobus.server import LocalZerobusServer

TABLES = "/api/2.1/unity-catalog/tables"
TOKEN = "/oidc/v1/token"


def _headers(server: LocalZerobusServer) -> dict[str, str]:
    token = fetch_metadata_token(server.workspace_url, server.client_id, server.client_secret)
    return {"Authorization": f"Bearer {token}"}


def _raw_request(server: LocalZerobusServer, head: str, body: bytes = b"") -> tuple[int, bytes, bool]:
    """Send `head` (request line and headers) and `body` as given: (status, response body, whether the
    server ended the connection, which it must when it cannot tell where the body ends)."""
    address = urlsplit(server.workspace_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode("utf-8") + b"\r\n" + body)
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = conn.recv(65536)
            if not chunk:
                break
            response += chunk
        headers, _, rest = response.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in headers.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            rest += conn.recv(65536)
        closed = "Connection: close" not in head and conn.recv(1) == b""
    return int(headers.split(b" ")[1]), rest, closed


@pytest.mark.parametrize(
    "lengths",
    [["abc"], ["-1"], ["1e3"], ["5x"], ["+5"], ["\u0665"], ["99999999999999"], ["2", "3"]],
    ids=["letters", "negative", "exponent", "suffix", "plus", "arabic-digit", "huge", "two-values"],
)
def test_bad_content_length_is_400_and_ends_the_connection(
    zerobus_server: LocalZerobusServer, lengths: list[str]
) -> None:
    auth = _headers(zerobus_server)["Authorization"]
    head = f"POST {TABLES} HTTP/1.1\nHost: x\nAuthorization: {auth}\n"
    head += "".join(f"Content-Length: {value}\n" for value in lengths)
    status, body, closed = _raw_request(zerobus_server, head, b"{}")
    assert status in (400, 413), body
    assert b"Content-Length" in body and closed


def test_chunked_bodies_are_refused_and_end_the_connection(zerobus_server: LocalZerobusServer) -> None:
    auth = _headers(zerobus_server)["Authorization"]
    head = f"POST {TABLES} HTTP/1.1\nHost: x\nAuthorization: {auth}\nTransfer-Encoding: chunked\n"
    status, body, closed = _raw_request(zerobus_server, head, b"2\r\n{}\r\n0\r\n\r\n")
    assert status == 411 and b"Content-Length" in body and closed


def test_a_good_content_length_still_works(zerobus_server: LocalZerobusServer) -> None:
    auth = _headers(zerobus_server)["Authorization"]
    status, body, _ = _raw_request(
        zerobus_server,
        f"GET {TABLES} HTTP/1.1\nHost: x\nAuthorization: {auth}\nContent-Length: 0\nConnection: close\n",
    )
    assert status == 200 and "tables" in json.loads(body)


def _details(privileges: object, path: object = "main", object_type: object = "CATALOG") -> str:
    return json.dumps(
        [
            {
                "type": "unity_catalog_privileges",
                "privileges": privileges,
                "object_type": object_type,
                "object_full_path": path,
            }
        ]
    )


@pytest.mark.parametrize(
    ("details", "fragment"),
    [
        (_details("USE CATALOG"), "privileges must be a JSON array of strings"),
        (_details(5), "privileges must be a JSON array of strings"),
        (_details([5]), "privileges must be a JSON array of strings"),
        (_details(["USE CATALOG", "TELEPORT"]), "unknown privileges ['TELEPORT']"),
        (_details(["USE CATALOG"], path="main\n"), "object_full_path part"),
        (_details(["USE CATALOG"], path=5), "bad object_type/object_full_path"),
        (_details(["USE CATALOG"], object_type=5), "bad object_type/object_full_path"),
        ("[" * 100_000 + "]" * 100_000, "levels deep"),
    ],
    ids=["string", "number", "number-item", "unknown", "newline-path", "path-number", "type-number", "deep"],
)
def test_bad_authorization_details_are_400_and_mint_nothing(
    zerobus_server: LocalZerobusServer, details: str, fragment: str
) -> None:
    form = {"grant_type": "client_credentials", "scope": "all-apis", "authorization_details": details}
    response = requests.post(
        zerobus_server.workspace_url + TOKEN,
        data=form,
        auth=(zerobus_server.client_id, zerobus_server.client_secret),
        timeout=10,
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and fragment in body["error_description"]
    assert "access_token" not in body


@pytest.mark.parametrize("limit", ["abc", "-1", "1_0", " 5", "\u0663", "1e3", "2.0", "9999999999"])
def test_bad_row_limits_are_400(zerobus_server: LocalZerobusServer, zerobus_table, limit: str) -> None:
    name = zerobus_table("id BIGINT")
    response = requests.get(
        f"{zerobus_server.workspace_url}/api/2.0/zerobus-emulator/tables/{name}/rows",
        params={"limit": limit},
        headers=_headers(zerobus_server),
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert "limit" in response.json()["message"] and repr(limit) in response.json()["message"]


@pytest.mark.parametrize("limit", ["0", "2", "000000003"])
def test_sane_row_limits_work(zerobus_server: LocalZerobusServer, zerobus_table, limit: str) -> None:
    name = zerobus_table("id BIGINT")
    response = requests.get(
        f"{zerobus_server.workspace_url}/api/2.0/zerobus-emulator/tables/{name}/rows",
        params={"limit": limit},
        headers=_headers(zerobus_server),
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["rows"] == []


def _create(server: LocalZerobusServer, body: object | bytes) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(server.workspace_url + TABLES, data=data, headers=_headers(server), timeout=30)


def _table(columns: list[dict[str, object]], **extra: object) -> dict[str, object]:
    return {"catalog_name": "mistakes", "schema_name": "s", "name": "t", "columns": columns, **extra}


DEEP_TYPE = "struct<a:" * 5_000 + "int" + ">" * 5_000


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        (_table([{"name": "id", "type_text": "int", "nullable": "false"}]), ["'nullable'", "'false'", "id"]),
        (_table([{"name": "id", "type_text": "int", "nullable": 1}]), ["'nullable'", "id"]),
        (_table([{"name": "id", "type_text": "int"}], comment=5), ["comment", "5"]),
        (_table([{"name": "deep", "type_text": DEEP_TYPE}]), ["levels deep", "deep"]),
        (b"[" * 200_000 + b"]" * 200_000, ["levels deep"]),
        (b'{"columns": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", ["levels deep"]),
        (b"\xff\xfe{}", ["not JSON"]),
    ],
    ids=[
        "nullable-string",
        "nullable-number",
        "comment-number",
        "deep-type",
        "deep-body",
        "deep-field",
        "not-utf8",
    ],
)
def test_bad_table_definitions_are_400_naming_the_problem(
    zerobus_server: LocalZerobusServer, body: object, fragments: list[str]
) -> None:
    response = _create(zerobus_server, body)
    assert response.status_code == 400, response.text
    for fragment in fragments:
        assert fragment in response.json()["message"], response.text
    listed = requests.get(
        zerobus_server.workspace_url + TABLES,
        params={"catalog_name": "mistakes"},
        headers=_headers(zerobus_server),
        timeout=10,
    )
    assert listed.json()["tables"] == []


# --- gRPC: deep JSON in records ---------------------------------------------------------------------


@pytest.mark.parametrize("levels", [513, 5_000, 100_000])
@pytest.mark.parametrize("where", ["record", "variant-text"])
def test_deep_json_records_are_invalid_argument_not_internal(
    zerobus_server: LocalZerobusServer, make_table, levels: int, where: str
) -> None:
    kit = make_table("id BIGINT, v VARIANT")
    nested = "[" * levels + "]" * levels
    record = '{"id": 1, "v": ' + nested + "}" if where == "record" else json.dumps({"id": 1, "v": nested})
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.batch(0, ['{"id": 0}', record])
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        assert "levels deep" in (error.details() or "")
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, record)
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
    assert zerobus_server.rows(kit.name) == []


def test_a_rest_body_naming_a_key_twice_is_400_naming_it(zerobus_server: LocalZerobusServer) -> None:
    body = (
        b'{"name": "dup_a", "catalog_name": "main", "schema_name": "default", "name": "dup_b",'
        b' "columns": [{"name": "id", "type_text": "bigint", "type_name": "LONG", "position": 0}]}'
    )
    response = _create(zerobus_server, body)
    assert response.status_code == 400, response.text
    assert "key 'name' appears more than once" in response.text
    listed = requests.get(
        zerobus_server.workspace_url + TABLES,
        params={"catalog_name": "main", "schema_name": "default"},
        headers=_headers(zerobus_server),
        timeout=10,
    ).json()
    assert not any(t["name"] in ("dup_a", "dup_b") for t in listed.get("tables", []))


def test_a_variant_value_naming_a_key_twice_is_refused(
    zerobus_server: LocalZerobusServer, make_table
) -> None:
    kit = make_table("id BIGINT, v VARIANT")
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        stream.record(0, json.dumps({"id": 1, "v": '{"k": 1, "k": 2}'}))
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        assert "'v'" in (error.details() or "") and "appears more than once" in (error.details() or "")
    assert zerobus_server.rows(kit.name) == []
