"""`ZerobusSdk(host, unity_catalog_url, application_name, connection_per_stream)` and
`set_use_tls`, as the official SDK 1.10 has them, against the real local server.

A relay (tests/support/observing_relay.py) sits between the SDK and the server: it counts the
TCP connections the SDK opens and reads the request headers it sends, changing nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sdk.drivers import AioDriver, SyncDriver
from tests.support.observing_relay import ObservingRelay
from zerobus.errors import ConfigurationError, NonRetriableException
from zerobus.sdk import aio, sync
from zerobus.sdk.shared import TableProperties

DRIVERS = {"sync": SyncDriver, "aio": AioDriver}


@pytest.fixture
def relays(zerobus_server: Any) -> Iterator[tuple[ObservingRelay, ObservingRelay]]:
    """(gRPC relay, HTTP relay) in front of the session's local server."""
    with (
        ObservingRelay(zerobus_server.grpc_port, http2=True) as grpc_relay,
        ObservingRelay(zerobus_server.http_port, http2=False) as http_relay,
    ):
        yield grpc_relay, http_relay


def _open_write_close(driver: Any, server: Any, table: str, streams: int) -> None:
    opened = [
        driver.create_stream(server.client_id, server.client_secret, TableProperties(table))
        for _ in range(streams)
    ]
    for number, stream in enumerate(opened):
        stream.ingest_record_offset({"id": number})
    for stream in opened:
        stream.close()


@pytest.mark.parametrize("driver_name", ["sync", "aio"])
def test_application_name_follows_our_identifier_in_every_user_agent(
    driver_name: str, relays: tuple[ObservingRelay, ObservingRelay], zerobus_server: Any, zerobus_table: Any
) -> None:
    grpc_relay, http_relay = relays
    table = zerobus_table("id BIGINT NOT NULL")
    driver = DRIVERS[driver_name](
        f"http://127.0.0.1:{grpc_relay.port}",
        f"http://127.0.0.1:{http_relay.port}",
        application_name="my-app/1.0",
    )
    try:
        _open_write_close(driver, zerobus_server, table, streams=1)
    finally:
        driver.close()
    (call,) = grpc_relay.requests
    assert call[":path"] == "/databricks.zerobus.Zerobus/EphemeralStream"
    assert call["user-agent"].startswith("zerobus-toolkit-py/")
    assert "my-app/1.0" in call["user-agent"]
    # The OAuth token and the Unity Catalog schema read (a PROTO stream without a descriptor).
    paths = [request[":request"].split()[1] for request in http_relay.requests]
    assert any(path.startswith("/oidc/v1/token") for path in paths)
    assert any(path.startswith("/api/2.1/unity-catalog/tables/") for path in paths)
    for request in http_relay.requests:
        assert request["user-agent"].startswith("zerobus-toolkit-py/")
        assert request["user-agent"].endswith(" my-app/1.0")
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == [0]


@pytest.mark.parametrize("module", [sync, aio], ids=["sync", "aio"])
@pytest.mark.parametrize("name", ["bad\nname", "cr\rname", "nul\x00", "del\x7f", "esc\x1b[0m"])
def test_application_name_that_no_header_can_carry_is_refused_at_construction(module: Any, name: str) -> None:
    with pytest.raises(NonRetriableException, match="application_name") as caught:
        module.ZerobusSdk("https://1.zerobus.example.com", "https://ws.example.com", application_name=name)
    assert repr(name) in str(caught.value) and "user-agent header value" in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("name", ["tab\tname", "sp ace", "", "ünïcode/1.0", "x" * 2000])
def test_application_name_the_official_sdk_accepts_is_accepted(name: str) -> None:
    sdk = sync.ZerobusSdk("https://1.zerobus.example.com", "https://ws.example.com", application_name=name)
    assert sdk._config.user_agent.startswith("zerobus-toolkit-py/")
    assert sdk._config.user_agent.endswith(name)


@pytest.mark.parametrize("driver_name", ["sync", "aio"])
@pytest.mark.parametrize(("per_stream", "expected"), [(True, 3), (False, 1), (None, 3)])
def test_connection_per_stream_decides_how_many_connections_streams_use(
    driver_name: str,
    per_stream: bool | None,
    expected: int,
    relays: tuple[ObservingRelay, ObservingRelay],
    zerobus_server: Any,
    zerobus_table: Any,
) -> None:
    grpc_relay, _ = relays
    table = zerobus_table("id BIGINT NOT NULL")
    options = {} if per_stream is None else {"connection_per_stream": per_stream}  # None: the default
    driver = DRIVERS[driver_name](
        f"http://127.0.0.1:{grpc_relay.port}", zerobus_server.workspace_url, **options
    )
    try:
        _open_write_close(driver, zerobus_server, table, streams=3)
    finally:
        driver.close()
    assert len(grpc_relay.requests) == 3
    assert grpc_relay.connections == expected
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == [0, 1, 2]


@pytest.mark.parametrize("value", ["yes", 1, 0.0])
def test_connection_per_stream_must_be_a_bool(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="connection_per_stream must be True or False"):
        sync.ZerobusSdk(
            "https://1.zerobus.example.com", "https://ws.example.com", connection_per_stream=value
        )


@pytest.mark.parametrize("driver_name", ["sync", "aio"])
def test_set_use_tls_false_talks_plaintext_to_a_scheme_less_loopback_endpoint(
    driver_name: str, zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    driver = DRIVERS[driver_name](f"127.0.0.1:{zerobus_server.grpc_port}", zerobus_server.workspace_url)
    try:
        assert driver.sdk.server_endpoint.startswith("https://")  # no scheme: TLS, as the official SDK
        driver.run(driver.sdk.set_use_tls, False) if driver_name == "aio" else driver.sdk.set_use_tls(False)
        assert driver.sdk.server_endpoint == f"http://127.0.0.1:{zerobus_server.grpc_port}"
        _open_write_close(driver, zerobus_server, table, streams=1)
    finally:
        driver.close()
    assert [row["id"] for row in zerobus_server.rows(table)] == [0]


def test_set_use_tls_false_never_sends_credentials_in_clear_text_to_a_remote_host() -> None:
    sdk = sync.ZerobusSdk("https://1.zerobus.example.com", "https://ws.example.com")
    sdk.set_use_tls(False)
    with pytest.raises(ConfigurationError, match="plaintext"):
        sdk.create_stream("id", "secret", TableProperties("a.b.c"))
    sdk.set_use_tls(True)
    assert sdk.server_endpoint == "https://1.zerobus.example.com"
    with pytest.raises(ConfigurationError, match="set_use_tls needs True or False, got 'no'"):
        sdk.set_use_tls("no")  # type: ignore[arg-type]
