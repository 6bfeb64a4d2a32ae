"""Internal: The server's state, apart from any wire protocol: catalog, principals, tokens, logs, faults.

The gRPC, Flight and HTTP front-ends are thin adapters over this object, and decide who may do
what through `zerobus.server.decisions` alone; tests of the state need no sockets, and the
front-ends cannot disagree about a table or a grant.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from zerobus.schema.ir import TableSchema
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, ServerConfig
from zerobus.server.faults import FaultInjector
from zerobus.server.identity.auth import FULL_ACCESS, Principal, PrincipalRegistry, TokenIssuer
from zerobus.server.identity.dev_idp import DevIdentityProvider
from zerobus.server.identity.token_exchange import FederationPolicies
from zerobus.server.stats import ServerStats
from zerobus.server.storage.catalog import Catalog, TableEntry, TableNotFound
from zerobus.server.storage.data_dir_lock import DataDirLock
from zerobus.server.storage.declared_tables import check_declared_tables
from zerobus.server.storage.delta_recovery import TableUnavailable
from zerobus.server.storage.log import GroupCommitter
from zerobus.server.storage.materializer import Materializer, ensure_delta_table
from zerobus.server.storage.tables import TableRuntime

__all__ = ["ServerCore"]

logger = logging.getLogger(__name__)


class ServerCore:
    """Opened on a data directory: recovers the catalog, the logs and the Delta tables."""

    def __init__(
        self, config: ServerConfig, data_dir: Path, faults: FaultInjector, stats: ServerStats
    ) -> None:
        self.config = config
        self.data_dir = data_dir
        # Before anything in the directory is read or written: one server per data directory.
        self._data_dir_lock = DataDirLock(data_dir)
        try:
            self._open_data_dir(config, data_dir, faults, stats)
        except BaseException:
            self._data_dir_lock.release()
            raise

    def _open_data_dir(
        self, config: ServerConfig, data_dir: Path, faults: FaultInjector, stats: ServerStats
    ) -> None:
        self.faults = faults
        self.stats = stats
        self.principals = PrincipalRegistry()
        self.principals.add(Principal(DEV_CLIENT_ID, DEV_CLIENT_SECRET, FULL_ACCESS))
        # Tokens outlive a restart: the official SDK reuses its token until it expires.
        self.tokens = TokenIssuer(config.token_lifetime_s, key_file=data_dir / "auth" / "token_key.json")
        # Federated external-IdP tokens (RFC 8693): the dev IdP and the policies that trust it.
        self.idp = DevIdentityProvider(data_dir / "auth" / "dev_idp_key.json")
        self.federation = FederationPolicies()
        self.catalog = Catalog(data_dir)
        check_declared_tables(self.catalog, config.tables, data_dir)  # before anything is opened
        self.committer = GroupCommitter()
        # Set by the gRPC front-end: told (from the commit thread) when a table's log advanced.
        self.durable_listener: Callable[[TableRuntime], None] | None = None
        self._lock = threading.Lock()
        self._tables: dict[str, TableRuntime] = {}
        # Tables that could not be opened at start (lower-cased name -> why): one broken table
        # must not keep the others from being served.
        self._unavailable: dict[str, str] = {}
        for entry in self.catalog.entries():
            try:
                self._open(entry)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                logger.error("table %s cannot be opened and is unavailable: %s", entry.full_name, reason)
                self._unavailable[entry.full_name.lower()] = reason
                stats.unavailable_tables[entry.full_name] = reason
        for full_name, columns in config.tables.items():
            if self.catalog.find(full_name) is None:
                self.create_table(full_name, columns)
        self.materializer = Materializer(
            config.materialize_delay_s,
            self.tables,
            stats,
            faults.frames,
            max_lag_s=config.materialize_max_lag_s,
        )

    def _open(self, entry: TableEntry) -> TableRuntime:
        table = TableRuntime(entry, self.committer, self.faults.disk)
        try:
            ensure_delta_table(table)
        except BaseException:
            table.log.close()
            raise

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
            unavailable = self._unavailable.get(full_name.lower())
        if unavailable is not None:
            raise TableUnavailable(full_name, unavailable)
        if table is None:
            raise TableNotFound(full_name)
        return table

    def unavailable_tables(self) -> dict[str, str]:
        """Tables in the catalog that could not be opened at start: full name -> why."""
        with self._lock:
            names = dict(self._unavailable)
        return {
            entry.full_name: names[entry.full_name.lower()]
            for entry in self.catalog.entries()
            if entry.full_name.lower() in names
        }

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
            unavailable = self._unavailable.pop(full_name.lower(), None)
        if table is None:
            if unavailable is not None:  # never opened: only its catalog entry and files to remove
                self.catalog.drop(full_name)
                return
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
        self._data_dir_lock.release()
