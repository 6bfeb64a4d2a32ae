"""Both drivers over TLS (``https://``), the path every workspace takes, against the local server.

The server's certificate is signed by a CA generated for the test session (the plugin's
`zerobus_tls_server`); clients trust it through `root_certificates` or the environment variables
of grpc and requests, and a client that does not trust it fails at once, saying so.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sdk.conftest import EVENTS_DDL, fast_options, ids
from tests.sdk.drivers import AioDriver, SyncDriver
from tests.support.tls_checks import assert_handshakes_failed
from zerobus.errors import ConfigurationError, NonRetriableException, ZerobusException
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.server import LocalZerobusServer

_names = itertools.count(1)


@pytest.fixture
def tls_table(zerobus_tls_server: LocalZerobusServer) -> Iterator[str]:
    name = f"main.tls.events_{next(_names)}"
    zerobus_tls_server.create_table(name, EVENTS_DDL)
    yield name
    zerobus_tls_server.drop_table(name)


@pytest.fixture(params=["sync", "aio"])
def make_driver(request: pytest.FixtureRequest) -> Iterator[Callable[..., SyncDriver | AioDriver]]:
    """Factory of the driver under test, ``make_driver(endpoint, workspace_url, **sdk_options)``."""
    made: list[SyncDriver | AioDriver] = []
    cls = SyncDriver if request.param == "sync" else AioDriver

    def make(endpoint: str, workspace_url: str, **sdk_options: Any) -> SyncDriver | AioDriver:
        driver = cls(endpoint, workspace_url, **sdk_options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


class CountingProvider(HeadersProvider):
    """A static token; counts the call attempts (the SDK asks once per attempt)."""

    def __init__(self) -> None:
        self.calls = 0

    def get_headers(self) -> list[tuple[str, str]]:
        self.calls += 1
        return [("authorization", "Bearer not-needed-to-fail-the-handshake")]


def test_ingest_flush_close_over_tls(
    make_driver: Callable[..., Any], zerobus_tls_server: LocalZerobusServer, tls_table: str
) -> None:
    server = zerobus_tls_server
    assert server.grpc_endpoint.startswith("https://") and server.workspace_url.startswith("https://")
    driver = make_driver(server.grpc_endpoint, server.workspace_url, root_certificates=server.ca_file)
    # No descriptor: the schema comes from Unity Catalog over HTTPS, after an OAuth token over HTTPS.
    stream = driver.create_stream(
        server.client_id, server.client_secret, TableProperties(tls_table), fast_options()
    )
    offsets = driver.ingest_all(
        stream, "ingest_record_offset", [{"id": i, "name": f"n{i}"} for i in range(20)]
    )
    assert offsets == list(range(20))
    stream.flush()
    stream.close()
    rows = server.rows(tls_table)
    assert ids(rows) == list(range(20))
    assert rows[3] == {"id": 3, "name": "n3"}


def test_untrusted_certificate_fails_oauth_at_once(
    make_driver: Callable[..., Any], zerobus_tls_server: LocalZerobusServer, tls_table: str
) -> None:
    server = zerobus_tls_server
    driver = make_driver(server.grpc_endpoint, server.workspace_url)  # trusts only the default CAs
    failed_before = server.stats.https_handshakes_failed
    with pytest.raises(NonRetriableException) as raised:
        driver.create_stream(
            server.client_id,
            server.client_secret,
            TableProperties(tls_table),
            StreamConfigurationOptions(record_type=RecordType.JSON, recovery_retries=3),
        )
    message = str(raised.value)
    assert "certificate verification failed" in message and "/oidc/v1/token" in message
    assert "root_certificates" in message and "REQUESTS_CA_BUNDLE" in message
    # One token request, one refused handshake: no retry.
    assert_handshakes_failed(server, failed_before, 1)


def test_untrusted_certificate_fails_the_grpc_call_at_once(
    make_driver: Callable[..., Any], zerobus_tls_server: LocalZerobusServer, tls_table: str
) -> None:
    server = zerobus_tls_server
    driver = make_driver(server.grpc_endpoint, server.workspace_url)
    provider = CountingProvider()
    options = StreamConfigurationOptions(record_type=RecordType.JSON, recovery_retries=3)
    with pytest.raises(NonRetriableException) as raised:
        driver.create_stream_with_headers_provider(provider, TableProperties(tls_table), options)
    message = str(raised.value)
    assert "certificate verification failed" in message and "CERTIFICATE_VERIFY_FAILED" in message
    assert "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH" in message
    assert provider.calls == 1  # one call attempt: the stream was not retried


def test_certificate_for_another_name_fails_at_once(make_driver: Callable[..., Any], tmp_path: Path) -> None:
    """A neighbour of the unknown CA: a trusted CA, but a certificate naming another host."""
    from zerobus.server.identity.tls import ensure_tls_files

    files = ensure_tls_files(tmp_path / "tls", ["zerobus.example.test"])
    with LocalZerobusServer(
        tls=True, tls_dir=files.ca_file.parent, tables={"main.tls.named": EVENTS_DDL}
    ) as server:
        driver = make_driver(server.grpc_endpoint, server.workspace_url, root_certificates=server.ca_file)
        provider = CountingProvider()
        with pytest.raises(NonRetriableException, match="certificate verification failed"):
            driver.create_stream_with_headers_provider(
                provider,
                TableProperties("main.tls.named"),
                StreamConfigurationOptions(record_type=RecordType.JSON),
            )
        assert provider.calls == 1
        with pytest.raises(NonRetriableException, match=r"certificate verification failed.*mismatch"):
            driver.create_stream(
                server.client_id,
                server.client_secret,
                TableProperties("main.tls.named"),
                StreamConfigurationOptions(record_type=RecordType.JSON),
            )


def test_https_to_a_plaintext_server_fails_at_once(
    make_driver: Callable[..., Any], zerobus_server: LocalZerobusServer, events_table: str
) -> None:
    """The usual local mistake: an https:// endpoint for the plaintext emulator."""
    server = zerobus_server
    https_endpoint = server.grpc_endpoint.replace("http://", "https://")
    https_workspace = server.workspace_url.replace("http://", "https://")
    driver = make_driver(https_endpoint, https_workspace)
    provider = CountingProvider()
    options = StreamConfigurationOptions(record_type=RecordType.JSON, recovery_retries=3)
    with pytest.raises(NonRetriableException, match="is a plaintext server") as raised:
        driver.create_stream_with_headers_provider(provider, TableProperties(events_table), options)
    assert "write http://" in str(raised.value) and provider.calls == 1
    with pytest.raises(NonRetriableException, match=r"OAuth token request .* is a plaintext server"):
        driver.create_stream(server.client_id, server.client_secret, TableProperties(events_table), options)


def test_localhost_failure_names_the_addresses_tried(make_driver: Callable[..., Any]) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        driver = make_driver(f"https://localhost:{port}", "https://localhost:1")
        with pytest.raises(ZerobusException) as raised:
            driver.create_stream_with_headers_provider(
                CountingProvider(),
                TableProperties("main.tls.nowhere"),
                StreamConfigurationOptions(record_type=RecordType.JSON, recovery=False),
            )
    assert not isinstance(raised.value, NonRetriableException)  # refused may be temporary
    assert "localhost resolves to" in str(raised.value) and "127.0.0.1" in str(raised.value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("/nonexistent/ca.pem", "cannot read the CA file"),
        (b"-----BEGIN CERTIFICATE-----", "must be the path of a PEM file"),
        (42, "must be the path of a PEM file"),
        ("", "must be the path of a PEM file"),
    ],
)
def test_bad_root_certificates_are_refused_before_any_call(value: Any, reason: str) -> None:
    from zerobus.sdk.sync import ZerobusSdk

    with pytest.raises(ConfigurationError, match="root_certificates") as raised:
        ZerobusSdk("https://127.0.0.1:1", "https://127.0.0.1:2", root_certificates=value)
    assert reason in str(raised.value)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a certificate\n", "holds no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be loaded"),
    ],
)
def test_unusable_ca_files_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    from zerobus.sdk.aio import ZerobusSdk

    path = tmp_path / "ca.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match="root_certificates") as raised:
        ZerobusSdk("https://127.0.0.1:1", "https://127.0.0.1:2", root_certificates=path)
    assert reason in str(raised.value) and str(path) in str(raised.value)


_ENV_CLIENT = textwrap.dedent(
    """
    import json, sys
    from zerobus.sdk.sync import ZerobusSdk, TableProperties
    args = json.loads(sys.argv[1])
    with ZerobusSdk(args["endpoint"], args["workspace_url"]) as sdk:
        with sdk.create_stream(args["client_id"], args["client_secret"], TableProperties(args["table"])) as stream:
            print(stream.ingest_records_offset([{"id": 1, "name": "env"}, {"id": 2}]))
    """
)


def test_environment_variables_make_both_clients_trust_the_ca(
    zerobus_tls_server: LocalZerobusServer, tls_table: str, tmp_path: Path
) -> None:
    """grpc reads its default roots once per process: this runs in a process of its own."""
    server = zerobus_tls_server
    env = dict(os.environ)
    env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(server.ca_file)
    env["REQUESTS_CA_BUNDLE"] = str(server.ca_file)
    args = {
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "table": tls_table,
    }
    result = subprocess.run(
        [sys.executable, "-c", _ENV_CLIENT, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "0"
    assert server.rows(tls_table) == [{"id": 1, "name": "env"}, {"id": 2, "name": None}]
