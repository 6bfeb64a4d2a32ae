"""Internal: Tables declared at start (``--table``, ``tables=``) against the ones a data directory holds.

A server restarted on its data directory with a different definition of a table it already has
must not keep the old schema silently, nor rewrite the table (its data was written with the old
one): it refuses to start and says what differs and how to fix it. Column names, types and
NOT NULL are compared; comments are documentation and are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from zerobus.schema.ir import Column, TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.server.storage.catalog import Catalog

__all__ = ["TableDefinitionConflict", "check_declared_tables", "schema_differences"]


class TableDefinitionConflict(ValueError):
    """A declared table exists in the data directory with other columns."""

    def __init__(self, full_name: str, data_dir: Path, differences: list[str]) -> None:
        self.full_name = full_name
        self.data_dir = data_dir
        self.differences = differences
        super().__init__(
            f"table {full_name} in {data_dir} has other columns than declared "
            f"({'; '.join(differences)}): declare it as it is, drop it first with "
            f"`zerobus-emulator drop-table {full_name} --data-dir {data_dir}` (its data is deleted), "
            f"start over with `zerobus-emulator reset --data-dir {data_dir}`, or use another data directory"
        )


def _shape(column: Column) -> str:
    null = " NOT NULL" if not column.nullable else ""
    return f"{column.type.type_text}{null}"


def schema_differences(existing: TableSchema, declared: TableSchema) -> list[str]:
    """What `declared` changes about `existing`, one phrase per column (empty when alike)."""
    old = {column.name.lower(): column for column in existing.columns}
    new = {column.name.lower(): column for column in declared.columns}
    differences: list[str] = []
    for key, column in new.items():
        before = old.get(key)
        if before is None:
            differences.append(f"column {column.name} {_shape(column)} is new")
        elif _shape(before) != _shape(column) or before.name != column.name:
            differences.append(
                f"column {before.name} is {_shape(before)}, declared {column.name} {_shape(column)}"
            )
    differences += [f"column {column.name} is not declared" for key, column in old.items() if key not in new]
    if not differences and [c.name.lower() for c in existing.columns] != list(new):
        differences.append(
            f"column order is {', '.join(c.name for c in existing.columns)}, "
            f"declared {', '.join(c.name for c in declared.columns)}"
        )
    return differences


def check_declared_tables(catalog: Catalog, tables: Mapping[str, str], data_dir: Path) -> None:
    """Raise `TableDefinitionConflict` for the first declared table the catalog holds differently."""
    for full_name, columns in tables.items():
        entry = catalog.find(full_name)
        if entry is None:
            continue
        differences = schema_differences(entry.schema, schema_from_ddl(columns, entry.full_name))
        if differences:
            raise TableDefinitionConflict(entry.full_name, data_dir, differences)
