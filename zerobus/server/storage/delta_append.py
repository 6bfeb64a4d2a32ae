"""Internal: Append one materialisation commit to a table's Delta table, its data file named by log position.

Rows must come back in log order, and Delta gives the files of a table no order: neither its
log nor deltalake's API says which commit added a file. So the data file of each commit is
named ``<last log seq, 20 digits>-<uuid>.snappy.parquet``: sorting the table's files by name
is sorting them by log position, for any reader, after a restart, a checkpoint or a log
clean-up alike. `write_deltalake` picks its own file names, so the file is written here with
pyarrow and committed with deltalake's `create_write_transaction`, together with the
application transaction ``(app id, last seq)`` that says where materialisation resumes.

The file's statistics hold its row count and the null count of each top-level column that is
not a struct; minimum and maximum values are left out: they only let readers skip files, and a
wrong one would make them skip rows.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["append_commit", "data_file_name", "data_file_seq"]

_NAMED_BY_SEQ = re.compile(r"(\d{20})-[0-9a-f]{32}\.snappy\.parquet")


def data_file_name(last_seq: int) -> str:
    """A new data file's name: sorts by `last_seq` (the last log seq whose rows it holds), unique."""
    if last_seq < 0:
        raise ValueError(f"last_seq must be a log seq (0 or more), got {last_seq}")
    return f"{last_seq:020d}-{uuid.uuid4().hex}.snappy.parquet"


def data_file_seq(name: str) -> int | None:
    """The last log seq a data file named by `data_file_name` holds; None for any other name."""
    match = _NAMED_BY_SEQ.fullmatch(name)
    return None if match is None else int(match.group(1))


def append_commit(delta_path: Path, data: Any, app_id: str, last_seq: int) -> None:
    """Commit `data` (a `pyarrow.Table` in log order, possibly empty) as one Delta commit whose
    application transaction `(app_id, last_seq)` marks everything through `last_seq` as written."""
    import pyarrow.parquet as pq
    from deltalake import CommitProperties, DeltaTable, Transaction
    from deltalake.transaction import AddAction, RemoveAction

    table = DeltaTable(str(delta_path))
    actions: list[AddAction | RemoveAction] = []
    if data.num_rows:
        name = data_file_name(last_seq)
        file_path = delta_path / name
        pq.write_table(data, str(file_path), compression="snappy")
        actions.append(
            AddAction(
                path=name,
                size=file_path.stat().st_size,
                partition_values={},
                modification_time=int(time.time() * 1000),
                data_change=True,
                stats=_file_stats(data),
            )
        )
    table.create_write_transaction(
        actions,
        "append",
        table.schema(),
        commit_properties=CommitProperties(app_transactions=[Transaction(app_id, last_seq)]),
    )


def _file_stats(data: Any) -> str:
    """Delta statistics of one data file: row count and null counts (see the module docstring)."""
    import pyarrow as pa

    null_counts = {
        field.name: column.null_count
        for field, column in zip(data.schema, data.columns, strict=True)
        if not pa.types.is_struct(field.type)
    }
    return json.dumps({"numRecords": data.num_rows, "nullCount": null_counts})
