"""Internal: `LocalZerobusServer`: the emulator in-process (what the CLI, the pytest plugin and tests use).

It wires the parts that keep state (catalog, principals and tokens, durable log, materializer,
faults) to the two thin wire front-ends (gRPC EphemeralStream and Flight DoPut in
`grpc_runner`, HTTP OAuth + Unity Catalog in `frontends.http_api`). Principals and federation
are `local_identity`'s; reading rows back is `storage.row_visibility`'s.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from zerobus.schema.ir import TableSchema
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, ServerConfig
from zerobus.server.faults import FaultInjector
from zerobus.server.frontends.http_timeouts import DEFAULT_HTTP_READ_TIMEOUT_S
from zerobus.server.grpc_runner import GrpcServerThread
from zerobus.server.local_identity import IdentityAdmin
from zerobus.server.ports import binding
from zerobus.server.rate_limit import limit_from_settings
from zerobus.server.stats import ServerStats
from zerobus.server.storage.materialize_schedule import DEFAULT_MAX_LAG_S
from zerobus.server.storage.quarantine import FramesQuarantined, MaterializationFailing, QuarantinedFrame

if TYPE_CHECKING:
    from zerobus.server.frontends.http_api import WorkspaceHttpServer
    from zerobus.server.identity.tls import TlsFiles
    from zerobus.server.server_core import ServerCore

__all__ = ["LocalZerobusServer"]

logger = logging.getLogger(__name__)


class LocalZerobusServer(IdentityAdmin):
    """A local, Zerobus-compatible server that writes real Delta tables.

    ::

        with LocalZerobusServer(tables={"main.default.events": "id BIGINT NOT NULL, name STRING"}) as server:
            sdk = ZerobusSdk(server.grpc_endpoint, server.workspace_url)
            stream = sdk.create_stream(server.client_id, server.client_secret, ...)
            ...
            server.rows("main.default.events")  # -> [{"id": 1, "name": "a"}, ...]

    Arguments:
        data_dir: where the catalog, the durable log and the Delta tables live; a server started
            again on the same directory recovers everything, and honours the tokens it issued
            until they expire (clients cache them). None: in-memory mode (a private
            temporary directory deleted at `stop()`).
        host, grpc_port, http_port: where to listen; port 0 picks a free port.
        materialize_delay_s: the pause between materialisation passes; an acknowledged record
            reaches its Delta table in the next pass (`wait_for_rows` waits for it).
        materialize_max_lag_s: while records keep arriving, a timed pass waits for them to
            pause, but starts at most this long after the previous one (0: never waits), so it
            does not slow acknowledgements; `wait_for_rows` and `rows` never wait.
        max_stream_duration_s: lifetime of a stream; a CloseStreamSignal is sent before the end,
            then the call ends with the retryable "Error code 6002" status. None: unlimited.
        tables: tables to create at start, ``{"cat.sch.tbl": "col TYPE, col TYPE NOT NULL"}``.
            A table the data directory already holds is kept when its columns (names, types,
            NOT NULL; not comments) are the same; otherwise `start()` raises
            `TableDefinitionConflict` naming each difference, before opening anything.
        http_read_timeout_s: an HTTP connection idle this long, or whose request body is not
            complete this long after it started, is dropped (a body cut off gets a 408 first).
        tls: serve gRPC and HTTP over TLS; the endpoints are then ``https://127.0.0.1:<port>``
            and clients must trust `ca_file` (see `zerobus.server.identity.tls`).
        tls_dir: where the CA and server certificate are (generated there when absent);
            None: ``<data_dir>/tls``.
        stream_rate_limit, stream_byte_rate_limit: hold every stream to this many records/s and
            bytes/s, as the service does: acknowledgements are paced (records are still stored
            at once), so clients see backpressure. None: unlimited.
        service_limits: the service's own limits (15,000 records/s and 100 MB/s per stream)
            for whichever of the two above is not given.
        rate_limit_clock: the clock of the rate limits' token buckets (tests script time with
            it); None: the server's event-loop clock.

    `start()` blocks until both ports accept connections (`PortInUse`, an OSError, names a port
    that is taken); `stop()` is clean and idempotent. The server is also a context manager.
    Before reading a table's Delta data directly, call `wait_for_rows()`: rows reach Delta in the
    next materialisation pass, not at the acknowledgement.
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
        materialize_max_lag_s: float = DEFAULT_MAX_LAG_S,
        close_signal_lead_s: float = 5.0,
        token_lifetime_s: float = 3600.0,
        http_read_timeout_s: float = DEFAULT_HTTP_READ_TIMEOUT_S,
        tls: bool = False,
        tls_dir: Path | str | None = None,
        stream_rate_limit: float | None = None,
        stream_byte_rate_limit: float | None = None,
        service_limits: bool = False,
        rate_limit_clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = ServerConfig(
            data_dir=Path(data_dir) if data_dir is not None else None,
            host=host,
            grpc_port=grpc_port,
            http_port=http_port,
            materialize_delay_s=materialize_delay_s,
            materialize_max_lag_s=materialize_max_lag_s,
            max_stream_duration_s=max_stream_duration_s,
            close_signal_lead_s=close_signal_lead_s,
            token_lifetime_s=token_lifetime_s,
            http_read_timeout_s=http_read_timeout_s,
            tables=dict(tables or {}),
            tls=tls,
            tls_dir=Path(tls_dir) if tls_dir is not None else None,
            stream_rate_limit=limit_from_settings(
                stream_rate_limit, stream_byte_rate_limit, service_limits, rate_limit_clock
            ),
        )
        self.faults = FaultInjector()
        self.stats = ServerStats()
        self._lock = threading.Lock()
        self._state = "new"  # new -> running -> stopped
        self._temp_dir: Path | None = None
        self._core: ServerCore | None = None
        self._http: WorkspaceHttpServer | None = None
        self._grpc = GrpcServerThread()
        self._tls_files: TlsFiles | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> LocalZerobusServer:
        """Open the data directory, recover, listen on both ports; returns when they are ready."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"server already {self._state}; create a new LocalZerobusServer")
            self._state = "starting"
        try:
            self._start()
        except BaseException:
            self._shutdown()
            with self._lock:
                self._state = "stopped"
            raise
        with self._lock:
            self._state = "running"
        logger.info("local Zerobus server: gRPC %s, workspace %s", self.grpc_endpoint, self.workspace_url)
        return self

    def _start(self) -> None:
        from zerobus.server.frontends.http_api import WorkspaceHttpServer
        from zerobus.server.frontends.observability import EmulatorStatus
        from zerobus.server.server_core import ServerCore

        if self.config.data_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="zerobus-emulator-"))
            data_dir = self._temp_dir
        else:
            data_dir = self.config.data_dir
            data_dir.mkdir(parents=True, exist_ok=True)
        core = self._core = ServerCore(self.config, data_dir, self.faults, self.stats)
        http_context = None
        if self.config.tls:
            from zerobus.server.identity.tls import (
                default_server_names,
                ensure_tls_files,
                http_server_context,
            )

            tls_dir = self.config.tls_dir or data_dir / "tls"
            self._tls_files = ensure_tls_files(tls_dir, default_server_names(self.config.host))
            http_context = http_server_context(self._tls_files)
        self._grpc.start(core, self.config.host, self.config.grpc_port, self._tls_files)
        self._http = binding(
            "HTTP",
            self.config.host,
            self.config.http_port,
            "--http-port",
            lambda: WorkspaceHttpServer(
                core,
                self.config.host,
                self.config.http_port,
                self._read_rows,
                http_context,
                EmulatorStatus(core, lambda: self._grpc.open_streams),
            ),
        )
        self._http.start()

    def stop(self) -> None:
        """Stop accepting calls, end open streams, materialise what is durable, close. Idempotent."""
        with self._lock:
            if self._state in ("stopped", "new"):
                self._state = "stopped"
                return
            self._state = "stopped"
        self._shutdown()

    def _shutdown(self) -> None:
        self.faults.set_close_signal_handler(None)
        self._grpc.stop()
        if self._http is not None:
            self._http.stop()
        if self._core is not None:
            self._core.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalZerobusServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def core(self) -> ServerCore:
        """The running server's state (for tests that look inside); RuntimeError if not running."""
        if self._core is None or self._state != "running":
            raise RuntimeError("the server is not running; use start() or a with-block")
        return self._core

    # --- endpoints ----------------------------------------------------------------------------------

    @property
    def grpc_endpoint(self) -> str:
        """Pass it as the SDK's server endpoint: ``http://127.0.0.1:<port>`` (plaintext gRPC), or
        ``https://127.0.0.1:<port>`` with `tls`."""
        return f"{self._scheme}://{self._url_host}:{self._grpc.port}"

    @property
    def grpc_port(self) -> int:
        return self._grpc.port

    @property
    def http_port(self) -> int:
        if self._http is None:
            raise RuntimeError("the server is not running")
        return self._http.port

    @property
    def workspace_url(self) -> str:
        """The OAuth token endpoint and the Unity Catalog REST API: ``http://127.0.0.1:<port>``,
        or ``https://127.0.0.1:<port>`` with `tls`."""
        return f"{self._scheme}://{self._url_host}:{self.http_port}"

    @property
    def tls(self) -> bool:
        return self.config.tls

    @property
    def ca_file(self) -> Path:
        """The PEM file of the CA that signed the server's certificate (clients must trust it)."""
        if self._tls_files is None:
            raise RuntimeError("no CA: the server is not running with tls=True")
        return self._tls_files.ca_file

    @property
    def _scheme(self) -> str:
        return "https" if self.config.tls else "http"

    @property
    def _url_host(self) -> str:
        host = self.config.host
        if host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

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
        return self.core.data_dir

    # --- tables -------------------------------------------------------------------------------------

    def create_table(self, full_name: str, columns: str, comment: str | None = None) -> TableSchema:
        """Create `cat.sch.tbl` from a column DDL list (``"id BIGINT NOT NULL, tags ARRAY<STRING>"``)."""
        return self.core.create_table(full_name, columns, comment).schema

    def drop_table(self, full_name: str) -> None:
        """Drop a table and delete its Delta data (KeyError if there is no such table)."""
        self.core.drop_table(full_name)

    def table_schema(self, full_name: str) -> TableSchema:
        """The table's schema (KeyError if there is no such table)."""
        return self.core.catalog.get(full_name).schema

    def table_names(self) -> list[str]:
        """Full names of every table, sorted."""
        return [entry.full_name for entry in self.core.catalog.entries()]

    def table_path(self, full_name: str) -> Path:
        """Where the table's Delta data lives: ``deltalake.DeltaTable(path)`` opens it."""
        return self.core.catalog.get(full_name).delta_path

    def flush_materialization(self, timeout_s: float = 30.0) -> None:
        """Materialise every acknowledged record now and wait for it (TimeoutError after `timeout_s`).

        Raises `FramesQuarantined` if any table has quarantined log frames: acknowledged records
        that are not in Delta (see `quarantined_frames`); `MaterializationFailing` if writing a
        table keeps failing (it is retried).
        """
        acknowledged = [(table, table.log.durable_seq) for table in self.core.tables()]
        self.core.materializer.flush(timeout_s)
        frames = self.quarantined_frames()
        if frames:
            raise FramesQuarantined(frames)
        for table, seq in acknowledged:
            if not table.dropped and table.materialized_seq < seq:
                raise MaterializationFailing(table.entry.full_name, table.materialize_error)

    def wait_for_rows(self, full_name: str, count: int | None = None, timeout_s: float = 30.0) -> int:
        """Wait until a reader of the table's Delta data sees at least `count` rows; returns how many.

        Acknowledged records reach Delta in the next materialisation pass, not at once: call this
        (not a sleep) before reading the table with deltalake, Spark or DuckDB. `count` None:
        every record acknowledged so far. TimeoutError after `timeout_s`, naming the rows seen;
        `FramesQuarantined` / `MaterializationFailing` when acknowledged records cannot get there.
        """
        from zerobus.server.storage.row_visibility import wait_for_rows

        return wait_for_rows(self.core, full_name, count, timeout_s)

    def rows(self, full_name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Materialise, then the table's rows read back with deltalake, in log order.

        Raises `FramesQuarantined` if some of the table's acknowledged records could not be
        materialised (never a success with rows missing), `TableUnavailable` for a table that
        could not be opened at start.
        """
        return self._read_rows(full_name, limit)

    def quarantined_frames(self, full_name: str | None = None) -> list[QuarantinedFrame]:
        """Log frames that could not be materialised, of one table or all; their rows are not in Delta.

        Each is kept under the table's directory (`QuarantinedFrame.path`, with a ``.reason`` file
        next to it) and was logged at ERROR; deleting both files releases it.
        """
        tables = [self.core.table(full_name)] if full_name is not None else self.core.tables()
        return [frame for table in tables for frame in table.quarantine.frames()]

    def unavailable_tables(self) -> dict[str, str]:
        """Tables that could not be opened at start (full name -> why); the others are served."""
        return self.core.unavailable_tables()

    def _read_rows(self, full_name: str, limit: int | None) -> list[dict[str, Any]]:
        from zerobus.server.storage.row_visibility import read_rows

        return read_rows(self.core, full_name, limit)
