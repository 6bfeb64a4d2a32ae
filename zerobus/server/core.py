"""The server's state, apart from any wire protocol: catalog, principals, tokens, logs, faults.

The gRPC and HTTP front-ends are thin adapters over this object; tests of the state need no
sockets, and the two front-ends cannot disagree about a table or a grant.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from zerobus.codegen.ir import TableSchema
from zerobus.server.auth import FULL_ACCESS, Principal, PrincipalRegistry, TokenIssuer
from zerobus.server.catalog import Catalog, TableEntry, TableNotFound
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, ServerConfig
from zerobus.server.faults import FaultInjector
from zerobus.server.log import GroupCommitter
from zerobus.server.materializer import Materializer, ensure_delta_table
from zerobus.server.stats import ServerStats
from zerobus.server.tables import TableRuntime

__all__ = ["ServerCore"]


class ServerCore:
    """Opened on a data directory: recovers the catalog, the logs and the Delta tables."""

    def __init__(
        self, config: ServerConfig, data_dir: Path, faults: FaultInjector, stats: ServerStats
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        self.faults = faults
        self.stats = stats
        self.principals = PrincipalRegistry()
        self.principals.add(Principal(DEV_CLIENT_ID, DEV_CLIENT_SECRET, FULL_ACCESS))
        # Tokens outlive a restart: the official SDK reuses its token until it expires.
        self.tokens = TokenIssuer(config.token_lifetime_s, key_file=data_dir / "auth" / "token_key.json")
        self.catalog = Catalog(data_dir)
        self.committer = GroupCommitter()
        # Set by the gRPC front-end: told (from the commit thread) when a table's log advanced.
        self.durable_listener: Callable[[TableRuntime], None] | None = None
        self._lock = threading.Lock()
        self._tables: dict[str, TableRuntime] = {}
        for entry in self.catalog.entries():
            self._open(entry)
        for full_name, columns in config.tables.items():
            if self.catalog.find(full_name) is None:
                self.create_table(full_name, columns)
        self.materializer = Materializer(config.materialize_delay_s, self.tables, stats)

    def _open(self, entry: TableEntry) -> TableRuntime:
        table = TableRuntime(entry, self.committer, self.faults.disk)
        ensure_delta_table(table)

        def durable(_seq: int) -> None:
            listener = self.durable_listener
            if listener is not None:
                listener(table)

        table.log.on_durable = durable
        with self._lock:
            self._tables[entry.full_name.lower()] = table
        return table

    def tables(self) -> list[TableRuntime]:
        with self._lock:
            return list(self._tables.values())

    def table(self, full_name: str) -> TableRuntime:
        """The open table (`TableNotFound` if there is none)."""
        with self._lock:
            table = self._tables.get(full_name.lower())
        if table is None:
            raise TableNotFound(full_name)
        return table

    def create_table(
        self, full_name: str, columns: str | TableSchema, comment: str | None = None
    ) -> TableEntry:
        entry = self.catalog.create(full_name, columns, comment)
        try:
            self._open(entry)
        except Exception:
            self.catalog.drop(entry.full_name)
            raise
        return entry

    def drop_table(self, full_name: str) -> None:
        with self._lock:
            table = self._tables.pop(full_name.lower(), None)
        if table is None:
            raise TableNotFound(full_name)
        table.dropped = True
        table.log.close()
        self.catalog.drop(full_name)

    def close(self) -> None:
        """Materialise what is durable, then close the logs and the commit thread."""
        self.materializer.stop()
        for table in self.tables():
            table.log.close()
        self.committer.stop()
