"""Internal: Reading a Delta table back through pyarrow's native filesystems, never Python-backed files.

By default deltalake's `to_pyarrow_dataset()` reads through a Python filesystem handler. Arrow
scans keep read-ahead state on their own threads; when the last reference to one of those Python
file objects is dropped on such a thread while the interpreter shuts down, the thread cannot take
the GIL and the process aborts ("terminate called without an active exception"), now and then,
after a client has printed its results. Native filesystems hold no Python objects.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from zerobus.server.storage.delta_append import data_file_seq

__all__ = ["open_dataset", "read_in_log_order"]

logger = logging.getLogger(__name__)


def open_dataset(location: str | Path) -> Any:
    """The table at `location` (a path or URI) as a `pyarrow.dataset.Dataset` on a native filesystem."""
    from deltalake import DeltaTable

    return _native_dataset(DeltaTable(str(location)))


def read_in_log_order(location: str | Path, limit: int | None = None) -> Any:
    """The table's rows (the first `limit` of them) as a `pyarrow.Table`, in log order.

    Each materialisation commit wrote one data file named by its log position (`delta_append`),
    so the files' names give the order. Files an earlier version named otherwise were all
    written before those, and come first, in the order of the commits that added them.
    """
    import pyarrow as pa
    from deltalake import DeltaTable

    table = DeltaTable(str(location))
    dataset = _native_dataset(table)
    fragments = {_file_name(fragment.path): fragment for fragment in dataset.get_fragments()}
    named_by_seq = sorted((seq, name) for name in fragments if (seq := data_file_seq(name)) is not None)
    older = [name for name in fragments if data_file_seq(name) is None]
    if older:
        added_in = _versions_adding(str(location), set(older))
        older.sort(key=lambda name: added_in.get(name, 1 << 62))  # unknown ones last, in listing order
    parts = []
    wanted = limit
    for name in older + [name for _, name in named_by_seq]:
        if wanted is not None and wanted <= 0:
            break
        part = fragments[name].to_table(schema=dataset.schema)
        if wanted is not None:
            part = part.slice(0, wanted)
            wanted -= part.num_rows
        parts.append(part)
    return pa.concat_tables(parts) if parts else dataset.schema.empty_table()


def _native_dataset(table: Any) -> Any:
    import pyarrow.fs as pa_fs

    filesystem, root = pa_fs.FileSystem.from_uri(table.table_uri)
    return table.to_pyarrow_dataset(filesystem=pa_fs.SubTreeFileSystem(root, filesystem))


def _file_name(path_or_uri: str) -> str:
    return PurePosixPath(unquote(urlsplit(path_or_uri).path)).name


def _versions_adding(location: str, names: set[str]) -> dict[str, int]:
    """Data file name -> the table version that added it (or the first loadable version after
    it), for `names`, through deltalake's version-by-version API: costly, so only for files not
    named by log position."""
    from deltalake import DeltaTable

    found: dict[str, int] = {}
    try:
        versions = sorted(int(entry["version"]) for entry in DeltaTable(location).history())
    except Exception as error:
        logger.warning(
            "Delta table %s: its history cannot be read (%s); older files keep listing order", location, error
        )
        return found
    snapshot: Any = None
    before: set[str] = set()
    for version in versions:
        try:
            if snapshot is None:
                snapshot = DeltaTable(location, version=version)
            else:
                snapshot.load_as_version(version)
        except Exception as error:  # a version whose commit was cleaned up: the next one has its files
            logger.debug("Delta table %s: version %d cannot be loaded: %s", location, version, error)
            snapshot = None
            continue
        files = {_file_name(uri) for uri in snapshot.file_uris()}
        for name in (files - before) & names:
            found.setdefault(name, version)
        before = files
        if len(found) == len(names):
            break
    return found
