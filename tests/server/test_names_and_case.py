"""Names the service refuses, and column names that collide ignoring case, on gRPC and REST."""

from __future__ import annotations

from urllib.parse import quote

import grpc
import pytest
import requests
from google.protobuf import descriptor_pb2

from tests.server.wire_client import ingest_token, open_stream
from zerobus.errors import ConfigurationError, SchemaError
from zerobus.oauth import fetch_metadata_token
from zerobus.server import LocalZerobusServer

TABLES = "/api/2.1/unity-catalog/tables"
_F = descriptor_pb2.FieldDescriptorProto


def _headers(server: LocalZerobusServer) -> dict[str, str]:
    token = fetch_metadata_token(server.workspace_url, server.client_id, server.client_secret)
    return {"Authorization": f"Bearer {token}"}


# --- descriptors whose fields collide ignoring case --------------------------------------------------


def _with_field(kit, name: str, nested: bool = False) -> bytes:  # type: ignore[no-untyped-def]
    message = descriptor_pb2.DescriptorProto.FromString(kit.descriptor)
    target = message.nested_type[0] if nested else message
    copy = target.field.add()
    copy.CopyFrom(target.field[0])
    copy.name, copy.number = name, max(f.number for f in target.field) + 1
    return message.SerializeToString()


@pytest.mark.parametrize(
    ("columns", "extra", "nested", "fragments"),
    [
        ("id BIGINT, name STRING", "ID", False, ["'id'", "'ID'", "case-insensitive"]),
        ("Id BIGINT NOT NULL", "iD", False, ["'Id'", "'iD'"]),
        ("id BIGINT, loc STRUCT<lat: DOUBLE, lon: DOUBLE>", "LAT", True, ["'lat'", "'LAT'", "'loc'"]),
    ],
    ids=["top-level", "not-null-column", "struct-member"],
)
def test_descriptor_fields_equal_ignoring_case_are_refused_naming_both(
    zerobus_server: LocalZerobusServer,
    make_table,
    columns: str,
    extra: str,
    nested: bool,
    fragments: list[str],
) -> None:
    kit = make_table(columns)
    with open_stream(zerobus_server, kit.name, _with_field(kit, extra, nested)) as stream:
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        details = error.details() or ""
        assert "descriptor incompatible with table" in details
        for fragment in fragments:
            assert fragment in details, details
    assert zerobus_server.rows(kit.name) == []


@pytest.mark.parametrize(
    "columns",
    [
        [{"name": "id", "type_text": "bigint"}, {"name": "ID", "type_text": "string"}],
        [{"name": "s", "type_text": "struct<a:int,A:string>"}],
        [{"name": "s", "type_text": "array<struct<x:int,X:int>>"}],
    ],
    ids=["columns", "struct-members", "array-of-struct"],
)
def test_rest_table_definitions_with_case_collisions_are_400(
    zerobus_server: LocalZerobusServer, columns: list[dict[str, str]]
) -> None:
    body = {"catalog_name": "case", "schema_name": "s", "name": "collide", "columns": columns}
    response = requests.post(
        zerobus_server.workspace_url + TABLES, json=body, headers=_headers(zerobus_server), timeout=10
    )
    assert response.status_code == 400, response.text
    assert "case-insensitive" in response.json()["message"]


def test_table_specs_with_case_collisions_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SchemaError, match="case-insensitive"):
        LocalZerobusServer(tmp_path, tables={"a.b.c": "id BIGINT, ID STRING"}).start()


# --- names ------------------------------------------------------------------------------------------

BAD_NAMES = [
    "main.tests.t\n",
    "main.tests.t ",
    "main.tests.t\t",
    "main.tests.t\x00",
    "main.tests.caf\u00e9",
    "main.tests.t\uff11",
    "main.tests." + "t" * 256,
    "main..t",
    "main.tests",
    "a.b.c.d",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_grpc_create_stream_refuses_bad_names(
    zerobus_server: LocalZerobusServer, make_table, name: str
) -> None:
    kit = make_table("id BIGINT")
    token = ingest_token(zerobus_server, kit.name)
    with open_stream(zerobus_server, name, kit.descriptor, token=token, header_table=kit.name) as stream:
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT, stream.error_text()
        assert "invalid table name" in (error.details() or "")


@pytest.mark.parametrize("name", BAD_NAMES)
def test_rest_get_and_delete_refuse_bad_names(zerobus_server: LocalZerobusServer, name: str) -> None:
    headers = _headers(zerobus_server)
    url = f"{zerobus_server.workspace_url}{TABLES}/{quote(name, safe='')}"
    for method in ("GET", "DELETE"):
        response = requests.request(method, url, headers=headers, timeout=10)
        assert response.status_code == 400, (method, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "made\n"),
        ("name", "\nmade"),
        ("name", "caf\u00e9"),
        ("name", "x" * 256),
        ("schema_name", "a.b"),
        ("schema_name", ""),
        ("catalog_name", 5),
        ("catalog_name", None),
        ("catalog_name", ["main"]),
    ],
)
def test_rest_create_refuses_bad_names_naming_the_field(
    zerobus_server: LocalZerobusServer, field: str, value: object
) -> None:
    body = {"catalog_name": "names", "schema_name": "s", "name": "ok", field: value}
    body["columns"] = [{"name": "id", "type_text": "bigint"}]
    response = requests.post(
        zerobus_server.workspace_url + TABLES, json=body, headers=_headers(zerobus_server), timeout=10
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    listed = requests.get(
        zerobus_server.workspace_url + TABLES,
        params={"catalog_name": "names"},
        headers=_headers(zerobus_server),
        timeout=10,
    )
    assert listed.json()["tables"] == []  # no look-alike table was created


def test_server_table_specs_refuse_bad_names_before_starting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError, match="invalid table name"):
        LocalZerobusServer(tmp_path, tables={"a.b.c\n": "id BIGINT"})
