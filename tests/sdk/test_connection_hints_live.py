"""Connection mistakes say what is likely wrong and how to fix it, and the certain ones fail at once.

Each mistake is made for real on loopback: nothing listening, the gRPC port given as the
workspace URL and the reverse, TLS to a plaintext port and plaintext to a TLS one (the local
server's ``tls=True``), a URL without a scheme, and a plain socket server that answers HTTP/1.1.
Only an unknown host needs DNS, which loopback has not: the resolver's answer is injected there.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver, SyncDriver
from zerobus.connection_hints import explain_http_failure, what_answers
from zerobus.endpoints import parse_endpoint
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import TableProperties

DRIVERS = {"sync": SyncDriver, "aio": AioDriver}


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def http1_socket_server() -> Iterator[int]:
    """A plain socket server that answers every connection with an HTTP/1.1 status line."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    thread.join(5)


def _create(driver_name: str, endpoint: str, workspace: str, server: Any, table: str) -> BaseException:
    driver = DRIVERS[driver_name](endpoint, workspace)
    try:
        with pytest.raises(ZerobusException) as caught:
            driver.create_stream(
                server.client_id,
                server.client_secret,
                TableProperties(table),
                fast_options(recovery_retries=1, recovery_backoff_ms=10),
            )
        return caught.value
    finally:
        driver.close()


@pytest.fixture(params=["sync", "aio"])
def driver_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def table(zerobus_table: Any) -> str:
    return str(zerobus_table("id BIGINT"))


def test_nothing_listening_at_the_grpc_endpoint(
    driver_name: str, closed_port: int, zerobus_server: Any, table: str
) -> None:
    error = _create(
        driver_name, f"http://127.0.0.1:{closed_port}", zerobus_server.workspace_url, zerobus_server, table
    )
    # A server may be starting: the stream keeps its retries, and says what is likely wrong.
    assert not isinstance(error, NonRetriableException)
    assert f"hint: nothing is listening at 127.0.0.1:{closed_port}" in str(error)
    assert "Zerobus gRPC endpoint" in str(error)


def test_nothing_listening_at_the_workspace_url(
    driver_name: str, closed_port: int, zerobus_server: Any, table: str
) -> None:
    error = _create(
        driver_name, zerobus_server.grpc_endpoint, f"http://127.0.0.1:{closed_port}", zerobus_server, table
    )
    assert f"hint: nothing is listening at 127.0.0.1:{closed_port}" in str(error)
    assert "workspace URL" in str(error)


def test_grpc_port_given_as_the_workspace_url(driver_name: str, zerobus_server: Any, table: str) -> None:
    error = _create(
        driver_name, zerobus_server.grpc_endpoint, zerobus_server.grpc_endpoint, zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)
    assert f"hint: 127.0.0.1:{zerobus_server.grpc_port} speaks HTTP/2 (gRPC)" in str(error)
    assert "that is the Zerobus endpoint" in str(error)


def test_the_hint_quotes_no_bytes_of_the_grpc_reply(
    driver_name: str, zerobus_server: Any, table: str
) -> None:
    error = _create(
        driver_name, zerobus_server.grpc_endpoint, zerobus_server.grpc_endpoint, zerobus_server, table
    )
    assert "BadStatusLine(a reply that is not HTTP/1.1)" in str(error)
    assert "\\x00" not in str(error) and "\x00" not in str(error)


def test_workspace_url_given_as_the_grpc_endpoint(driver_name: str, zerobus_server: Any, table: str) -> None:
    error = _create(
        driver_name, zerobus_server.workspace_url, zerobus_server.workspace_url, zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)  # certain: no retries, no waiting
    assert f"hint: 127.0.0.1:{zerobus_server.http_port} answers HTTP/1.1, not gRPC" in str(error)
    assert "gave up after" not in str(error)


def test_an_http1_server_given_as_the_grpc_endpoint(
    driver_name: str, http1_socket_server: int, zerobus_server: Any, table: str
) -> None:
    endpoint = f"http://127.0.0.1:{http1_socket_server}"
    error = _create(driver_name, endpoint, zerobus_server.workspace_url, zerobus_server, table)
    assert isinstance(error, NonRetriableException)
    assert "answers HTTP/1.1, not gRPC" in str(error) and "workspace (Unity Catalog) URL" in str(error)


def test_tls_to_a_plaintext_grpc_port(driver_name: str, zerobus_server: Any, table: str) -> None:
    port = zerobus_server.grpc_port
    error = _create(
        driver_name, f"https://127.0.0.1:{port}", zerobus_server.workspace_url, zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)
    assert f"hint: 127.0.0.1:{port} is a plaintext server: write http://127.0.0.1:{port}" in str(error)
    assert str(error).count("http://") == 1  # said once


def test_a_grpc_endpoint_without_a_scheme_names_the_assumed_https(
    driver_name: str, zerobus_server: Any, table: str
) -> None:
    port = zerobus_server.grpc_port
    error = _create(driver_name, f"127.0.0.1:{port}", zerobus_server.workspace_url, zerobus_server, table)
    assert isinstance(error, NonRetriableException)
    assert "(no scheme was given, so https:// was assumed): write http://127.0.0.1:" in str(error)


@pytest.mark.parametrize("descriptor", [False, True], ids=["schema-from-unity-catalog", "descriptor"])
def test_a_workspace_url_without_a_scheme_names_the_assumed_https(
    driver_name: str, descriptor: bool, zerobus_server: Any, table: str
) -> None:
    port = zerobus_server.http_port
    workspace = f"127.0.0.1:{port}"
    driver = DRIVERS[driver_name](zerobus_server.grpc_endpoint, workspace)
    properties = TableProperties(table, schema_from_ddl("id BIGINT", table) if descriptor else None)
    try:
        with pytest.raises(NonRetriableException) as caught:
            driver.create_stream(
                zerobus_server.client_id, zerobus_server.client_secret, properties, fast_options()
            )
    finally:
        driver.close()
    # The first request is the Unity Catalog read (its metadata token), or the ingest token.
    assert f"hint: 127.0.0.1:{port} is a plaintext server (no scheme was given" in str(caught.value)
    assert f"write http://127.0.0.1:{port}" in str(caught.value)


def test_plaintext_to_a_tls_grpc_port(
    driver_name: str, zerobus_server: Any, zerobus_tls_server: Any, table: str
) -> None:
    port = zerobus_tls_server.grpc_port
    error = _create(
        driver_name, f"http://127.0.0.1:{port}", zerobus_server.workspace_url, zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)
    assert f"hint: 127.0.0.1:{port} expects TLS: write https://127.0.0.1:{port}" in str(error)


def test_plaintext_to_a_tls_workspace_port(
    driver_name: str, zerobus_server: Any, zerobus_tls_server: Any, table: str
) -> None:
    port = zerobus_tls_server.http_port
    error = _create(
        driver_name, zerobus_server.grpc_endpoint, f"http://127.0.0.1:{port}", zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)
    assert f"hint: 127.0.0.1:{port} expects TLS: write https://127.0.0.1:{port}" in str(error)


def test_what_answers_tells_the_three_servers_apart(zerobus_server: Any, zerobus_tls_server: Any) -> None:
    assert what_answers(parse_endpoint(zerobus_server.grpc_endpoint)) == (False, "http/2")
    assert what_answers(parse_endpoint(zerobus_server.workspace_url)) == (False, "http/1.1")
    assert what_answers(parse_endpoint(zerobus_tls_server.grpc_endpoint))[0] is True
    assert what_answers(parse_endpoint(zerobus_tls_server.workspace_url))[0] is True


def test_an_unknown_host_is_named(monkeypatch: pytest.MonkeyPatch, zerobus_server: Any, table: str) -> None:
    """Loopback has no DNS: the resolver's "no such name" is injected for one host name."""
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-workspace.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    error = _create(
        "sync", zerobus_server.grpc_endpoint, "https://no-such-workspace.example", zerobus_server, table
    )
    assert isinstance(error, NonRetriableException)
    assert "hint: the host 'no-such-workspace.example' does not exist" in str(error)
    # gRPC's resolver says it in its own words (as grpc 1.x reports it); the verdict is the same.
    grpc_text = (
        "errors resolving no-such-workspace.example:443: [field:hostname lookup error:address lookup "
        "failed for no-such-workspace.example:443: Domain name not found]"
    )
    endpoint = parse_endpoint("no-such-workspace.example")
    explained = explain_http_failure("check", endpoint, OSError(grpc_text))
    assert isinstance(explained, NonRetriableException) and "does not exist" in str(explained)
