"""The Unity Catalog client and `load_schema` over real HTTP: the local server and a scripted one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.codegen.codegen_support import ScriptedCatalog
from zerobus.codegen import (
    CatalogAuthError,
    CatalogRequestError,
    CatalogUnavailableError,
    TableNotFoundError,
    load_schema,
    schema_from_ddl,
)
from zerobus.errors import ConfigurationError, NonRetriableException, SchemaError, ZerobusException
from zerobus.schema.uc import fetch_table_json

if TYPE_CHECKING:
    from zerobus.server import LocalZerobusServer

COLUMNS = "id BIGINT NOT NULL COMMENT 'key', at TIMESTAMP, amount DECIMAL(10,2), tags ARRAY<STRING>"


def test_load_schema_from_the_local_server(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    name = zerobus_table(COLUMNS)
    schema = load_schema(
        name,
        host=zerobus_server.workspace_url,
        client_id=zerobus_server.client_id,
        client_secret=zerobus_server.client_secret,
    )
    assert schema == schema_from_ddl(COLUMNS, name)


def test_credentials_default_to_the_databricks_variables(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = zerobus_table(COLUMNS)
    monkeypatch.setenv("DATABRICKS_HOST", zerobus_server.workspace_url)
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", zerobus_server.client_id)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", zerobus_server.client_secret)
    assert load_schema(name).name == name


def test_real_refusals_are_classified(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    from zerobus.server import Grant

    name = zerobus_table(COLUMNS)
    url = zerobus_server.workspace_url
    with pytest.raises(TableNotFoundError, match="HTTP 404") as missing:
        fetch_table_json(
            "main.tests.no_such_table", url, zerobus_server.client_id, zerobus_server.client_secret
        )
    assert "TABLE_DOES_NOT_EXIST" in str(missing.value)
    with pytest.raises(CatalogAuthError, match="HTTP 401"):
        fetch_table_json(name, url, zerobus_server.client_id, "wrong-secret")
    zerobus_server.add_principal("codegen-no-select", "s3cret", [Grant("main", ["USE CATALOG"])])
    try:
        with pytest.raises(CatalogAuthError, match="HTTP 403") as denied:
            fetch_table_json(name, url, "codegen-no-select", "s3cret")
        assert "PERMISSION_DENIED" in str(denied.value)
    finally:
        zerobus_server.remove_principal("codegen-no-select")
    for error in (TableNotFoundError, CatalogAuthError):
        assert issubclass(error, NonRetriableException)


def test_tokens_are_bearer_and_table_names_url_quoted(scripted_catalog: ScriptedCatalog) -> None:
    scripted_catalog.table_answers = [
        (200, {"full_name": "main.default.t", "columns": [{"name": "a", "type_text": "int"}]})
    ]
    table = fetch_table_json("main.default.t", scripted_catalog.url, "id", "secret")
    assert table["columns"][0]["name"] == "a"
    (token_request, table_request) = scripted_catalog.requests
    assert token_request[1] == "/oidc/v1/token"
    assert "grant_type=client_credentials" in token_request[2]["body"]
    assert "scope=all-apis" in token_request[2]["body"]
    assert table_request[1] == "/api/2.1/unity-catalog/tables/main.default.t"
    assert table_request[2]["Authorization"] == "Bearer scripted-token"
    # A given token skips OAuth.
    fetch_table_json("main.default.t", scripted_catalog.url, token="pat-123")
    assert scripted_catalog.requests[-1][2]["Authorization"] == "Bearer pat-123"


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            500,
            {"error_code": "INTERNAL_ERROR", "message": "boom"},
            CatalogUnavailableError,
            "INTERNAL_ERROR: boom",
        ),
        (503, b"<html>down</html>", CatalogUnavailableError, "HTTP 503"),
        (
            429,
            {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"},
            CatalogUnavailableError,
            "slow down",
        ),
        (400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}, CatalogRequestError, "bad"),
        (200, b"not json", CatalogRequestError, "is not JSON"),
        (200, {"name": "t"}, CatalogRequestError, "not a table with columns"),
    ],
)
def test_scripted_failures_are_classified(
    scripted_catalog: ScriptedCatalog, status: int, body: object, error: type[Exception], text: str
) -> None:
    scripted_catalog.table_answers = [(status, body)]
    with pytest.raises(error) as caught:
        fetch_table_json("main.default.t", scripted_catalog.url, "id", "secret")
    assert text in str(caught.value)
    retryable = not isinstance(caught.value, NonRetriableException)
    assert retryable == (status >= 500 or status == 429)
    assert isinstance(caught.value, ZerobusException)


def test_token_endpoint_failures_are_classified(scripted_catalog: ScriptedCatalog) -> None:
    scripted_catalog.token_answer = (401, {"error": "invalid_client", "error_description": "nope"})
    with pytest.raises(CatalogAuthError, match="nope"):
        fetch_table_json("main.default.t", scripted_catalog.url, "id", "secret")
    scripted_catalog.token_answer = (502, {"error": "bad_gateway"})
    with pytest.raises(CatalogUnavailableError, match="HTTP 502"):
        fetch_table_json("main.default.t", scripted_catalog.url, "id", "secret")


def test_bad_input_fails_before_any_network_call(scripted_catalog: ScriptedCatalog) -> None:
    with pytest.raises(ConfigurationError, match="invalid table name"):
        fetch_table_json("main.t", scripted_catalog.url, "id", "secret")
    with pytest.raises(ConfigurationError, match="refusing to send credentials over plaintext"):
        fetch_table_json("main.default.t", "http://example.com", "id", "secret")
    with pytest.raises(ConfigurationError, match="client_id and client_secret"):
        fetch_table_json("main.default.t", scripted_catalog.url)
    assert scripted_catalog.requests == []


def test_unreachable_catalog_is_retryable() -> None:
    with pytest.raises(CatalogUnavailableError):
        fetch_table_json("main.default.t", "http://127.0.0.1:9", token="t")


def test_load_schema_from_a_file_and_its_errors(tmp_path: Path) -> None:
    schema = schema_from_ddl(COLUMNS, "main.default.t")
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps({"full_name": schema.name, "columns": [c.to_uc_json() for c in schema.columns]})
    )
    assert load_schema(path=path) == schema
    assert load_schema("main.default.t", path=path) == schema
    with pytest.raises(
        ConfigurationError, match=r"describes table 'main\.default\.t', not 'main\.default\.u'"
    ):
        load_schema("main.default.u", path=path)
    with pytest.raises(ConfigurationError, match="cannot read table JSON"):
        load_schema(path=tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(SchemaError, match="is not valid JSON"):
        load_schema(path=tmp_path / "bad.json")


def test_load_schema_needs_exactly_one_source() -> None:
    with pytest.raises(ConfigurationError, match="nothing to load"):
        load_schema()
    with pytest.raises(ConfigurationError, match="needs a table name"):
        load_schema(ddl="a INT")
    with pytest.raises(ConfigurationError, match="either ddl or path"):
        load_schema("t", ddl="a INT", path="x.json")
