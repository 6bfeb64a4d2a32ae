"""Reading Delta tables back without Python-backed files (see zerobus.server.storage.delta_read)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pa_fs
from deltalake import write_deltalake

from zerobus.server.storage.delta_read import open_dataset


def test_a_table_is_read_through_a_native_filesystem(tmp_path: Path) -> None:
    location = tmp_path / "t"
    write_deltalake(str(location), pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}))
    write_deltalake(str(location), pa.table({"id": [4], "name": ["d"]}), mode="append")
    for where in (location, location.as_uri()):
        dataset = open_dataset(where)
        assert not isinstance(dataset.filesystem, pa_fs.PyFileSystem)
        assert dataset.count_rows() == 4
        assert sorted(dataset.to_table().column("id").to_pylist()) == [1, 2, 3, 4]
