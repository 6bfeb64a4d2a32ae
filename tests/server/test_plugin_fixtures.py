"""The pytest plugin's fixtures for code under test: environment, SDK, and a stream on a fresh table."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from zerobus.sdk.sync import ZerobusSdk, ZerobusStream
from zerobus.server import LocalZerobusServer

VARIABLES = ("ZEROBUS_SERVER_ENDPOINT", "DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET")


def code_under_test(records: int) -> None:
    """What an application does: read its settings from the environment and write."""
    from zerobus.sdk.sync import TableProperties

    sdk = ZerobusSdk(os.environ["ZEROBUS_SERVER_ENDPOINT"], os.environ["DATABRICKS_HOST"])
    try:
        with sdk.create_stream(
            os.environ["DATABRICKS_CLIENT_ID"],
            os.environ["DATABRICKS_CLIENT_SECRET"],
            TableProperties(os.environ["APP_TABLE"]),
        ) as stream:
            stream.ingest_records_offset([{"id": i} for i in range(records)])
    finally:
        sdk.close()


def test_zerobus_env_points_code_under_test_at_the_server(
    zerobus_env: dict[str, str],
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert sorted(zerobus_env) == sorted(VARIABLES)
    assert os.environ["ZEROBUS_SERVER_ENDPOINT"] == zerobus_server.grpc_endpoint
    assert os.environ["DATABRICKS_HOST"] == zerobus_server.workspace_url
    table = zerobus_table("id BIGINT")
    monkeypatch.setenv("APP_TABLE", table)
    code_under_test(10)
    assert zerobus_server.wait_for_rows(table, 10) == 10


def test_zerobus_env_is_undone_after_the_test(zerobus_server: LocalZerobusServer) -> None:
    # Runs after the test above (file order): the session server's values are gone again.
    assert os.environ.get("ZEROBUS_SERVER_ENDPOINT") != zerobus_server.grpc_endpoint


def test_zerobus_stream_gives_an_open_stream_on_a_fresh_table(
    zerobus_stream: Callable[..., tuple[str, ZerobusStream]],
    zerobus_sdk: ZerobusSdk,
    zerobus_server: LocalZerobusServer,
) -> None:
    table, stream = zerobus_stream("id BIGINT NOT NULL, name STRING")
    other_table, _ = zerobus_stream("id BIGINT NOT NULL, name STRING")
    assert table != other_table and zerobus_server.rows(table) == []
    stream.ingest_records_offset([{"id": i, "name": f"n{i}"} for i in range(5)])
    stream.flush()
    assert zerobus_server.wait_for_rows(table, 5) == 5
    assert [row["id"] for row in zerobus_server.rows(table)] == list(range(5))
    assert isinstance(zerobus_sdk, ZerobusSdk)
