"""pytest plugin (entry point `pytest11`): fixtures that give tests a running local server.

Fixtures:
- `zerobus_server`: one `LocalZerobusServer` for the whole session, on free loopback ports,
  data under a pytest temp dir, a short materialisation delay. Faults are reset after every
  test that used it.
- `zerobus_table`: a factory, ``zerobus_table("id BIGINT, name STRING", name=None) -> full name``,
  creating a uniquely named table on `zerobus_server` (dropped again after the test).
- `zerobus_credentials`: ``(client_id, client_secret)`` of the development principal.
- `zerobus_env`: sets ``ZEROBUS_SERVER_ENDPOINT``, ``DATABRICKS_HOST``, ``DATABRICKS_CLIENT_ID``
  and ``DATABRICKS_CLIENT_SECRET`` to `zerobus_server`'s for the test (monkeypatch: restored
  after it), for code under test that reads its settings from the environment; returns them.
- `zerobus_sdk`: a sync ``ZerobusSdk`` on `zerobus_server`, closed after the test.
- `zerobus_stream`: a factory, ``zerobus_stream("id BIGINT, name STRING", options=None) ->
  (table, stream)``: a fresh table (as `zerobus_table` makes it) and an open sync stream to it;
  streams still open are closed after the test.
- `zerobus_async_sdk`, `zerobus_async_stream`: the asyncio counterparts of `zerobus_sdk` and
  `zerobus_stream`, as factories the test awaits on its own event loop (``sdk = await
  zerobus_async_sdk()``, ``table, stream = await zerobus_async_stream("id BIGINT")``, or ``async
  with``); they need no asyncio plugin (see `zerobus.pytest_async_fixtures`).
- `zerobus_tls_server`: like `zerobus_server`, but serving gRPC and HTTP over TLS (``https://``)
  with a CA generated for the session; trust ``zerobus_tls_server.ca_file``, e.g.
  ``ZerobusSdk(server.grpc_endpoint, server.workspace_url, root_certificates=server.ca_file)``.
  Started only by the tests that ask for it.

Options: ``--zerobus-stream-rate-limit RECORDS_PER_S``, ``--zerobus-stream-byte-rate-limit
BYTES_PER_S`` and ``--zerobus-service-limits`` (15,000 records/s and 100 MB/s) hold every stream
of the session servers to those limits, as the service does (acknowledgements are paced, so
clients see backpressure). Default: unlimited.

Read rows back with ``zerobus_server.rows(full_name)``; before reading the Delta table some
other way (deltalake, Spark), ``zerobus_server.wait_for_rows(full_name, count)``: rows reach
Delta in the next materialisation pass, not at the acknowledgement. Importing this module is cheap: the
server (and deltalake, pyarrow) is imported only when a fixture is first used.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# Fixtures of this plugin: pytest finds them among the plugin module's names.
from zerobus.pytest_async_fixtures import (
    _zerobus_async_left_open,  # noqa: F401
    pytest_runtest_call,
    zerobus_async_sdk,
    zerobus_async_stream,
)

if TYPE_CHECKING:
    from zerobus.sdk.shared import StreamConfigurationOptions
    from zerobus.sdk.sync import ZerobusSdk, ZerobusStream
    from zerobus.server import LocalZerobusServer

__all__ = [
    "pytest_runtest_call",
    "zerobus_async_sdk",
    "zerobus_async_stream",
    "zerobus_credentials",
    "zerobus_env",
    "zerobus_sdk",
    "zerobus_server",
    "zerobus_stream",
    "zerobus_table",
    "zerobus_tls_server",
]

# Materialisation delay of the session server: short, so rows show up quickly even without
# an explicit `flush_materialization()`.
SESSION_MATERIALIZE_DELAY_S = 0.2

_table_counter = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zerobus", "Zerobus local server")
    group.addoption(
        "--zerobus-stream-rate-limit",
        type=float,
        default=None,
        metavar="RECORDS_PER_S",
        help="Hold every stream of the session's local servers to this many records/s.",
    )
    group.addoption(
        "--zerobus-stream-byte-rate-limit",
        type=float,
        default=None,
        metavar="BYTES_PER_S",
        help="Hold every stream of the session's local servers to this many request bytes/s.",
    )
    group.addoption(
        "--zerobus-service-limits",
        action="store_true",
        default=False,
        help="The service's per-stream limits (15,000 records/s, 100 MB/s) on the session's local servers.",
    )


def _rate_limits(config: pytest.Config) -> dict[str, Any]:
    """The session servers' rate-limit arguments, from the command line."""
    return {
        "stream_rate_limit": config.getoption("zerobus_stream_rate_limit"),
        "stream_byte_rate_limit": config.getoption("zerobus_stream_byte_rate_limit"),
        "service_limits": config.getoption("zerobus_service_limits"),
    }


@pytest.fixture(scope="session")
def _zerobus_session_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LocalZerobusServer]:
    from zerobus.server import LocalZerobusServer

    data_dir = tmp_path_factory.mktemp("zerobus-server")
    server = LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=SESSION_MATERIALIZE_DELAY_S, **_rate_limits(pytestconfig)
    )
    with server:
        yield server


@pytest.fixture
def zerobus_server(_zerobus_session_server: LocalZerobusServer) -> Iterator[LocalZerobusServer]:
    """The session's running local server; its faults are reset after the test."""
    yield _zerobus_session_server
    _zerobus_session_server.faults.reset()


@pytest.fixture(scope="session")
def _zerobus_session_tls_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[LocalZerobusServer]:
    from zerobus.server import LocalZerobusServer

    data_dir = tmp_path_factory.mktemp("zerobus-tls-server")
    server = LocalZerobusServer(
        data_dir=data_dir,
        materialize_delay_s=SESSION_MATERIALIZE_DELAY_S,
        tls=True,
        **_rate_limits(pytestconfig),
    )
    with server:
        yield server


@pytest.fixture
def zerobus_tls_server(_zerobus_session_tls_server: LocalZerobusServer) -> Iterator[LocalZerobusServer]:
    """The session's local server over TLS (``https://``; trust its `ca_file`); faults reset after."""
    yield _zerobus_session_tls_server
    _zerobus_session_tls_server.faults.reset()


@pytest.fixture
def zerobus_credentials(_zerobus_session_server: LocalZerobusServer) -> tuple[str, str]:
    """`(client_id, client_secret)` of the development principal (every privilege)."""
    return _zerobus_session_server.client_id, _zerobus_session_server.client_secret


@pytest.fixture
def zerobus_table(
    zerobus_server: LocalZerobusServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., str]]:
    """Factory: ``zerobus_table(columns_ddl, name=None) -> "catalog.schema.table"``.

    Without `name`, the table is `main.tests.<test name>_<n>`, unique within the session.
    Tables made here are dropped after the test.
    """
    created: list[str] = []

    def make(columns: str, name: str | None = None) -> str:
        if name is None:
            stem = re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:60]
            name = f"main.tests.{stem}_{next(_table_counter)}"
        zerobus_server.create_table(name, columns)
        created.append(name)
        return name

    yield make
    for name in created:
        with contextlib.suppress(KeyError):
            zerobus_server.drop_table(name)


@pytest.fixture
def zerobus_env(zerobus_server: LocalZerobusServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The four environment variables the SDK's users read, pointing at `zerobus_server`."""
    values = {
        "ZEROBUS_SERVER_ENDPOINT": zerobus_server.grpc_endpoint,
        "DATABRICKS_HOST": zerobus_server.workspace_url,
        "DATABRICKS_CLIENT_ID": zerobus_server.client_id,
        "DATABRICKS_CLIENT_SECRET": zerobus_server.client_secret,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def zerobus_sdk(zerobus_server: LocalZerobusServer) -> Iterator[ZerobusSdk]:
    """A sync `ZerobusSdk` on `zerobus_server` (closed after the test)."""
    from zerobus.sdk.sync import ZerobusSdk

    sdk = ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        yield sdk
    finally:
        sdk.close()


@pytest.fixture
def zerobus_stream(
    zerobus_server: LocalZerobusServer, zerobus_sdk: ZerobusSdk, zerobus_table: Callable[..., str]
) -> Iterator[Callable[..., tuple[str, ZerobusStream]]]:
    """Factory: ``zerobus_stream(columns_ddl, options=None) -> (table, stream)`` on a fresh table."""
    from zerobus.sdk.sync import TableProperties

    streams: list[ZerobusStream] = []

    def make(columns: str, options: StreamConfigurationOptions | None = None) -> tuple[str, ZerobusStream]:
        table = zerobus_table(columns)
        stream = zerobus_sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table), options
        )
        streams.append(stream)
        return table, stream

    yield make
    from zerobus.errors import ZerobusException

    for stream in streams:
        # Idempotent for streams the test closed; one the test made fail has nothing to add.
        with contextlib.suppress(ZerobusException):
            stream.close()
