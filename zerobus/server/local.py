"""`LocalZerobusServer`: the emulator in-process (what the CLI, the pytest plugin and tests use).

It wires the parts that keep state (catalog, principals and tokens, durable log, materializer,
faults) to the two thin wire front-ends (gRPC EphemeralStream, HTTP OAuth + Unity Catalog).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from zerobus.codegen.ir import TableSchema
from zerobus.server.auth import FULL_ACCESS, Grant, Principal
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, ServerConfig
from zerobus.server.faults import FaultInjector
from zerobus.server.stats import ServerStats

__all__ = ["LocalZerobusServer"]

logger = logging.getLogger(__name__)


class LocalZerobusServer:
    """A local, Zerobus-compatible server that writes real Delta tables.

    ::

        with LocalZerobusServer(tables={"main.default.events": "id BIGINT NOT NULL, name STRING"}) as server:
            sdk = ZerobusSdk(server.grpc_endpoint, server.workspace_url)
            stream = sdk.create_stream(server.client_id, server.client_secret, ...)
            ...
            server.rows("main.default.events")  # -> [{"id": 1, "name": "a"}, ...]

    Arguments:
        data_dir: where the catalog, the durable log and the Delta tables live; a server started
            again on the same directory recovers everything. None: in-memory mode (a private
            temporary directory deleted at `stop()`).
        host, grpc_port, http_port: where to listen; port 0 picks a free port.
        materialize_delay_s: acknowledged records reach their Delta table within this delay.
        max_stream_duration_s: lifetime of a stream; a CloseStreamSignal is sent before the end,
            then the call ends with the retryable "Error code 6002" status. None: unlimited.
        tables: tables to create at start, ``{"cat.sch.tbl": "col TYPE, col TYPE NOT NULL"}``
            (existing tables of the same name are kept as they are).

    `start()` blocks until both ports accept connections; `stop()` is clean and idempotent. The
    server is also a context manager.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        grpc_port: int = 0,
        http_port: int = 0,
        materialize_delay_s: float = 2.0,
        max_stream_duration_s: float | None = None,
        tables: Mapping[str, str] | None = None,
        *,
        close_signal_lead_s: float = 5.0,
        token_lifetime_s: float = 3600.0,
    ) -> None:
        self.config = ServerConfig(
            data_dir=Path(data_dir) if data_dir is not None else None,
            host=host,
            grpc_port=grpc_port,
            http_port=http_port,
            materialize_delay_s=materialize_delay_s,
            max_stream_duration_s=max_stream_duration_s,
            close_signal_lead_s=close_signal_lead_s,
            token_lifetime_s=token_lifetime_s,
            tables=dict(tables or {}),
        )
        self.faults = FaultInjector()
        self.stats = ServerStats()
        self._lock = threading.Lock()
        self._started = False
        self._stopped = False
        self._temp_dir: str | None = None
        self._grpc_port: int | None = None
        self._http_port: int | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LocalZerobusServer:
        """Open the data directory, recover, listen on both ports; returns when they are ready."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop accepting calls, end open streams, materialise what is durable, close. Idempotent."""
        raise NotImplementedError

    def __enter__(self) -> LocalZerobusServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- endpoints ----------------------------------------------------------------------------------

    @property
    def grpc_endpoint(self) -> str:
        """``http://127.0.0.1:<port>``: plaintext gRPC; pass it as the SDK's server endpoint."""
        raise NotImplementedError

    @property
    def workspace_url(self) -> str:
        """``http://127.0.0.1:<port>``: the OAuth token endpoint and the Unity Catalog REST API."""
        raise NotImplementedError

    @property
    def client_id(self) -> str:
        """The well-known development principal's client id (it holds every privilege)."""
        return DEV_CLIENT_ID

    @property
    def client_secret(self) -> str:
        """The well-known development principal's secret."""
        return DEV_CLIENT_SECRET

    @property
    def data_dir(self) -> Path:
        """The directory holding the catalog, the log and the Delta tables (a temp dir in memory mode)."""
        raise NotImplementedError

    # --- tables -------------------------------------------------------------------------------------

    def create_table(self, full_name: str, columns: str, comment: str | None = None) -> TableSchema:
        """Create `cat.sch.tbl` from a column DDL list (``"id BIGINT NOT NULL, tags ARRAY<STRING>"``)."""
        raise NotImplementedError

    def drop_table(self, full_name: str) -> None:
        """Drop a table and delete its Delta data."""
        raise NotImplementedError

    def table_schema(self, full_name: str) -> TableSchema:
        """The table's schema (KeyError if there is no such table)."""
        raise NotImplementedError

    def table_names(self) -> list[str]:
        """Full names of every table, sorted."""
        raise NotImplementedError

    def table_path(self, full_name: str) -> Path:
        """Where the table's Delta data lives: ``deltalake.DeltaTable(path)`` opens it."""
        raise NotImplementedError

    def flush_materialization(self, timeout_s: float = 30.0) -> None:
        """Materialise every acknowledged record now and wait for it (TimeoutError after `timeout_s`)."""
        raise NotImplementedError

    def rows(self, full_name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """`flush_materialization()`, then the table's rows read back with deltalake, in log order."""
        raise NotImplementedError

    # --- principals ---------------------------------------------------------------------------------

    def add_principal(
        self, client_id: str, client_secret: str, grants: Iterable[Grant] = FULL_ACCESS
    ) -> Principal:
        """Add (or replace) a service principal with `grants`.

        Example: ``add_principal("reader", "s3cret", [Grant("main", ["USE CATALOG"]),
        Grant("main.default", ["USE SCHEMA"]), Grant("main.default.events", ["SELECT"])])``.
        """
        raise NotImplementedError

    def remove_principal(self, client_id: str) -> None:
        """Forget a principal (its tokens stop working at the next check)."""
        raise NotImplementedError
