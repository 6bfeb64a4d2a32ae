"""Internal: Matching a file's column names to the table's, once, before any row is read.

A name matches a column of the same name, or, failing that, the one column whose name differs
only in case (Delta column names are case-insensitive). A file column the table lacks, two file
columns for one table column, or a NOT NULL column the file lacks fails the whole file up front,
naming the columns: every one of its rows would be refused for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from zerobus.ingest.errors import InputFileError
from zerobus.schema.ir import Column, TableSchema

__all__ = ["match_columns"]


def match_columns(path: str, names: Sequence[str], schema: TableSchema) -> list[Column]:
    """The table column each of the file's columns `names` fills, in the file's order."""
    exact = {column.name: column for column in schema.columns}
    folded: dict[str, list[Column]] = {}
    for table_column in schema.columns:
        folded.setdefault(table_column.name.lower(), []).append(table_column)
    matched: list[Column] = []
    filled: dict[str, str] = {}
    for name in names:
        column: Column | None = exact.get(name)
        if column is None:
            candidates = folded.get(name.lower(), [])
            if len(candidates) != 1:
                raise InputFileError(
                    path,
                    f"column {name!r} is not a column of {schema.name} "
                    f"(its columns: {', '.join(c.name for c in schema.columns)})",
                )
            column = candidates[0]
        if column.name in filled:
            raise InputFileError(
                path, f"columns {filled[column.name]!r} and {name!r} both fill column {column.name!r}"
            )
        filled[column.name] = name
        matched.append(column)
    missing = [c.name for c in schema.columns if not c.nullable and c.name not in filled]
    if missing:
        raise InputFileError(path, f"no column for NOT NULL column(s) {', '.join(missing)} of {schema.name}")
    return matched
