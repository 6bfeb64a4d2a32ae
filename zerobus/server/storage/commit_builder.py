"""Internal: The data of one Delta commit, built from log frames in log order: record rows and Arrow batches.

Record frames give rows (dicts, converted by `pyarrow.Table.from_pylist`); Arrow frames give
whole batches, conformed to the table's schema and kept as Arrow (no per-row Python). Runs of
rows between batches become tables of their own, so the commit keeps the log's order.

A frame whose rows Arrow cannot take (or that puts a null where the schema says NOT NULL) is
left out and listed in `rejected`, with the reason, for the materializer to quarantine: one bad
frame never fails the commit of the others. Runs of rows are converted in one call; only when
that fails is the run converted frame by frame to find the culprits.
"""

from __future__ import annotations

from typing import Any

from zerobus.schema.arrow_types import arrow_schema
from zerobus.schema.ir import TableSchema
from zerobus.server.storage.arrow_ipc import frame_table
from zerobus.server.validation.arrow_batches import conform
from zerobus.server.validation.arrow_nulls import null_violation

__all__ = ["CommitBuilder"]


class CommitBuilder:
    """Collects rows and Arrow frames for one table; `table()` is the commit's `pyarrow.Table`."""

    def __init__(self, schema: TableSchema) -> None:
        self._schema = schema
        self._target = arrow_schema(schema)
        self._rows: list[dict[str, Any]] = []
        self._frame_starts: list[tuple[int, int]] = []  # (seq, index of its first row in _rows)
        self._tables: list[Any] = []
        self.num_rows = 0
        self.rejected: list[tuple[int, str]] = []  # (seq, reason) of frames left out

    def add_frame_rows(self, seq: int, rows: list[dict[str, Any]]) -> None:
        """The rows of log frame `seq` (a record frame: all of them or, if rejected, none)."""
        self._frame_starts.append((seq, len(self._rows)))
        self._rows.extend(rows)
        self.num_rows += len(rows)

    def add_arrow_frame(self, ipc_stream: bytes) -> None:
        """An Arrow frame's IPC stream (schema + one batch); raises if it cannot be written."""
        table = conform(self._schema, frame_table(ipc_stream))
        problem = null_violation(table)
        if problem is not None:
            raise ValueError(problem)
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
        # The commit's one data file (`delta_append`) keeps the chunks' order: no copy into one chunk.
        return pa.concat_tables(self._tables)

    def _flush_rows(self) -> None:
        if self._rows:
            try:
                self._tables.append(self._checked_table(self._rows))
            except Exception:
                self._isolate_frames()
        self._rows = []
        self._frame_starts = []

    def _checked_table(self, rows: list[dict[str, Any]]) -> Any:
        import pyarrow as pa

        table = pa.Table.from_pylist(rows, schema=self._target)
        problem = null_violation(table)
        if problem is not None:
            raise ValueError(problem)
        return table

    def _isolate_frames(self) -> None:
        ends = [start for _, start in self._frame_starts[1:]] + [len(self._rows)]
        for (seq, start), end in zip(self._frame_starts, ends, strict=True):
            try:
                self._tables.append(self._checked_table(self._rows[start:end]))
            except Exception as error:
                self.rejected.append((seq, f"Arrow cannot take its rows: {error!r}"))
                self.num_rows -= end - start
