"""Reading a Delta table back through pyarrow's native filesystems, never Python-backed files.

By default deltalake's `to_pyarrow_dataset()` reads through a Python filesystem handler. Arrow
scans keep read-ahead state on their own threads; when the last reference to one of those Python
file objects is dropped on such a thread while the interpreter shuts down, the thread cannot take
the GIL and the process aborts ("terminate called without an active exception"), now and then,
after a client has printed its results. Native filesystems hold no Python objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

__all__ = ["commit_order", "open_dataset"]


def open_dataset(location: str | Path) -> Any:
    """The table at `location` (a path or URI) as a `pyarrow.dataset.Dataset` on a native filesystem."""
    import pyarrow.fs as pa_fs
    from deltalake import DeltaTable

    table = DeltaTable(str(location))
    filesystem, root = pa_fs.FileSystem.from_uri(table.table_uri)
    return table.to_pyarrow_dataset(filesystem=pa_fs.SubTreeFileSystem(root, filesystem))


def commit_order(delta_path: Path) -> dict[str, int]:
    """Data file name -> the Delta log version that added it, so rows read back keep log order.

    deltalake's API has no per-file commit version (`get_add_actions` gives path, size, time and
    statistics; the order of its files is unspecified), and replaying every version through
    `load_as_version` costs a snapshot per commit, so the JSON commits are read here, in the one
    module that reads Delta tables back. A file whose commit is only in a checkpoint sorts last.
    """
    order: dict[str, int] = {}
    for commit in sorted((delta_path / "_delta_log").glob("*.json")):
        for line in commit.read_text(encoding="utf-8").splitlines():
            action = json.loads(line) if line.strip() else {}
            added = action.get("add")
            if added:
                order.setdefault(Path(unquote(added["path"])).name, int(commit.stem))
    return order
