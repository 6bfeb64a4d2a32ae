"""Internal: The emulator's Unity Catalog: tables, their schemas and where their data lives.

Each table is one JSON file under ``<data_dir>/catalog/`` (written atomically: temp file, fsync,
rename), so a restarted server finds its tables again. A table's Delta data and its durable log
live under ``<data_dir>/tables/<catalog.schema.table>-<first 8 hex of table_id>/`` (lower case):
named after the table so a person finds it, and fresh for every creation, so dropping and
re-creating a table never mixes old data (or a writer still finishing on the old one) into the new
one. Tables created by earlier versions keep their ``tables/<table_id>/`` folder (the catalog
entry says which folder is the table's).
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerobus.names import parse_table_name
from zerobus.schema.ir import TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.schema.uc_json import schema_from_uc_json
from zerobus.server.storage.atomic_files import (
    atomic_write,
    ensure_directory,
    fsync_directory,
    remove_stale_temp_files,
)

__all__ = ["Catalog", "TableAlreadyExists", "TableEntry", "TableNotFound", "table_directory_name"]

logger = logging.getLogger(__name__)


class TableNotFound(KeyError):
    """No table of that name."""

    def __init__(self, full_name: str) -> None:
        super().__init__(full_name)
        self.full_name = full_name

    def __str__(self) -> str:
        return f"Table '{self.full_name}' does not exist."


class TableAlreadyExists(ValueError):
    """A table of that name exists already."""


@dataclass(frozen=True)
class TableEntry:
    """One table: its schema, identity and directories."""

    schema: TableSchema
    table_id: str
    created_at_ms: int
    root: Path  # <data_dir>/tables/<table_id>

    @property
    def full_name(self) -> str:
        return self.schema.name

    @property
    def delta_path(self) -> Path:
        return self.root / "delta"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    def to_uc_json(self) -> dict[str, Any]:
        """The table as the Unity Catalog tables API returns it (docs/PROTOCOL.md section 6)."""
        name = parse_table_name(self.full_name)
        table: dict[str, Any] = {
            "name": name.table,
            "catalog_name": name.catalog,
            "schema_name": name.schema,
            "full_name": self.full_name,
            "table_type": "MANAGED",
            "data_source_format": "DELTA",
            "storage_location": self.delta_path.resolve().as_uri(),
            "table_id": self.table_id,
            "created_at": self.created_at_ms,
            "owner": "zerobus-emulator",
            "columns": [column.to_uc_json() for column in self.schema.columns],
        }
        if self.schema.comment is not None:
            table["comment"] = self.schema.comment
        return table


# Device names Windows reserves, also with an extension ("con.default.t" is one).
_RESERVED_STEMS = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(10)),
    *(f"lpt{i}" for i in range(10)),
}
# Folder names stay well inside the 255 bytes file systems allow (a full name can be 767).
_MAX_NAME_CHARS = 200


def table_directory_name(full_name: str, table_id: str) -> str:
    """``main.default.events-1a2b3c4d``: the validated name (ASCII letters, digits, underscore,
    dots) in lower case, shortened if long, plus the id's first 8 hex digits."""
    stem = full_name.lower()[:_MAX_NAME_CHARS]
    if stem.split(".")[0] in _RESERVED_STEMS:
        stem = "_" + stem
    return f"{stem}-{table_id.replace('-', '')[:8]}"


class Catalog:
    """Tables by full name, persisted in the data directory (thread-safe)."""

    def __init__(self, data_dir: Path) -> None:
        self._catalog_dir = data_dir / "catalog"
        self._tables_dir = data_dir / "tables"
        ensure_directory(self._catalog_dir)
        ensure_directory(self._tables_dir)
        remove_stale_temp_files(self._catalog_dir)
        self._lock = threading.Lock()
        self._tables: dict[str, TableEntry] = {}
        self._load()

    def _load(self) -> None:
        for path in sorted(self._catalog_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text())
                schema = schema_from_uc_json(record["table"])
                directory = record.get("directory", record["table_id"])
                if (
                    not isinstance(directory, str)
                    or Path(directory).name != directory
                    or directory in ("", ".", "..")
                ):
                    raise ValueError(f"directory {directory!r} is not a folder name")
                entry = TableEntry(
                    schema, record["table_id"], record["created_at_ms"], self._tables_dir / directory
                )
            except (OSError, ValueError, KeyError) as error:
                logger.error("ignoring unreadable catalog entry %s: %s", path, error)
                continue
            self._tables[entry.full_name.lower()] = entry

    def create(self, full_name: str, columns: str | TableSchema, comment: str | None = None) -> TableEntry:
        """Create a table from a column DDL list or a schema; `TableAlreadyExists` if taken."""
        name = parse_table_name(full_name)
        if isinstance(columns, TableSchema):
            schema = TableSchema(name.full_name, columns.columns, comment or columns.comment)
        else:
            schema = schema_from_ddl(columns, name.full_name)
            schema = TableSchema(schema.name, schema.columns, comment)
        with self._lock:
            if name.full_name.lower() in self._tables:
                raise TableAlreadyExists(f"Table '{name.full_name}' already exists.")
            table_id = str(uuid.uuid4())
            directory = table_directory_name(name.full_name, table_id)
            entry = TableEntry(schema, table_id, int(time.time() * 1000), self._tables_dir / directory)
            entry.root.mkdir(parents=True)
            fsync_directory(self._tables_dir)
            self._write_entry(entry)
            self._tables[name.full_name.lower()] = entry
        return entry

    def drop(self, full_name: str) -> TableEntry:
        """Remove a table from the catalog and delete its data."""
        with self._lock:
            entry = self._tables.pop(full_name.lower(), None)
            if entry is None:
                raise TableNotFound(full_name)
            self._entry_path(entry).unlink(missing_ok=True)
            fsync_directory(self._catalog_dir)
        shutil.rmtree(entry.root, ignore_errors=True)
        return entry

    def get(self, full_name: str) -> TableEntry:
        with self._lock:
            entry = self._tables.get(full_name.lower())
        if entry is None:
            raise TableNotFound(full_name)
        return entry

    def find(self, full_name: str) -> TableEntry | None:
        with self._lock:
            return self._tables.get(full_name.lower())

    def entries(self) -> list[TableEntry]:
        with self._lock:
            return sorted(self._tables.values(), key=lambda e: e.full_name)

    def _entry_path(self, entry: TableEntry) -> Path:
        return self._catalog_dir / f"{entry.table_id}.json"

    def _write_entry(self, entry: TableEntry) -> None:
        record = {
            "table_id": entry.table_id,
            "directory": entry.root.name,
            "created_at_ms": entry.created_at_ms,
            "table": {
                "full_name": entry.full_name,
                "comment": entry.schema.comment,
                "columns": [c.to_uc_json() for c in entry.schema.columns],
            },
        }
        atomic_write(self._entry_path(entry), json.dumps(record, indent=1).encode("utf-8"))
