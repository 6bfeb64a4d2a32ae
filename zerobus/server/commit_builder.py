"""The data of one Delta commit, built from log frames in log order: record rows and Arrow batches.

Record frames give rows (dicts, converted by `pyarrow.Table.from_pylist`); Arrow frames give
whole batches, conformed to the table's schema and kept as Arrow (no per-row Python). Runs of
rows between batches become tables of their own, so the commit keeps the log's order.
"""

from __future__ import annotations

from typing import Any

from zerobus.codegen.arrow_schema import arrow_schema
from zerobus.codegen.ir import TableSchema
from zerobus.server.arrow_batches import conform
from zerobus.server.arrow_ipc import frame_table

__all__ = ["CommitBuilder"]


class CommitBuilder:
    """Collects rows and Arrow frames for one table; `table()` is the commit's `pyarrow.Table`."""

    def __init__(self, schema: TableSchema) -> None:
        self._schema = schema
        self._target = arrow_schema(schema)
        self._rows: list[dict[str, Any]] = []
        self._tables: list[Any] = []
        self.num_rows = 0

    def add_row(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self.num_rows += 1

    def add_arrow_frame(self, ipc_stream: bytes) -> None:
        """An Arrow frame's IPC stream (schema + one batch); raises if it cannot be decoded."""
        table = conform(self._schema, frame_table(ipc_stream))
        self._flush_rows()
        self._tables.append(table)
        self.num_rows += table.num_rows

    def table(self) -> Any:
        import pyarrow as pa

        self._flush_rows()
        if not self._tables:
            return self._target.empty_table()
        if len(self._tables) == 1:
            return self._tables[0]
        # One chunk: deltalake may write each chunk to a file of its own, and files of one commit
        # have no order, while the rows must keep the log's.
        return pa.concat_tables(self._tables).combine_chunks()

    def _flush_rows(self) -> None:
        if self._rows:
            import pyarrow as pa

            self._tables.append(pa.Table.from_pylist(self._rows, schema=self._target))
            self._rows = []
