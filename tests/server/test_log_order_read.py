"""Rows read back in log order, from the data files' names (see zerobus.server.storage.delta_append).

Delta gives a table's files no order, so each commit's data file is named by the last log seq it
holds. These tests hold every reader of the table to that: `rows()` across many commits and a
restart, after the log's early commits were cleaned up behind a checkpoint, and on tables whose
files an earlier emulator version named (``part-...parquet``).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from tests.server.wire_client import open_stream
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.delta_append import data_file_name, data_file_seq
from zerobus.server.storage.delta_read import open_dataset

_TABLE = "main.default.ordered"


def _scrambled(count: int, start: int = 0) -> list[int]:
    """Distinct ids in an order no sort (by id, by name, by size) can reproduce by accident."""
    return [(start + i) * 7919 % 100_003 for i in range(count)]


def _ingest_cycles(server: LocalZerobusServer, ids: list[int], per_commit: int) -> None:
    """One request and one materialisation pass (one Delta commit) per `per_commit` ids."""
    with open_stream(server, _TABLE, json=True) as stream:
        stream.wait_created()
        for offset, start in enumerate(range(0, len(ids), per_commit)):
            stream.batch(offset, [json.dumps({"id": i}) for i in ids[start : start + per_commit]])
            assert stream.wait_acked(offset)
            server.flush_materialization()
        stream.half_close()
        assert stream.wait_done() is None


def _file_names(delta_path: Path) -> list[str]:
    return [PurePosixPath(uri).name for uri in DeltaTable(str(delta_path)).file_uris()]


def test_data_file_names_sort_by_log_seq_and_other_names_have_none() -> None:
    names = [data_file_name(seq) for seq in (0, 9, 10, 99, 12_345_678_901)]
    assert sorted(names) == names
    assert [data_file_seq(name) for name in names] == [0, 9, 10, 99, 12_345_678_901]
    assert data_file_name(5) != data_file_name(5)
    for other in ("part-00000-3b1f6c1e-0c1e-4f5e-9a59-2f0e7c9c1a11-c000.snappy.parquet", "0001-x.parquet"):
        assert data_file_seq(other) is None
    with pytest.raises(ValueError, match="last_seq must be a log seq"):
        data_file_name(-1)


def test_rows_come_back_in_ingest_order_across_many_commits_and_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, second = _scrambled(60), _scrambled(40, start=60)
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={_TABLE: "id BIGINT"}
    ) as server:
        _ingest_cycles(server, first, per_commit=5)
        assert [row["id"] for row in server.rows(_TABLE)] == first
        delta_path = server.table_path(_TABLE)
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={_TABLE: "id BIGINT"}
    ) as server:
        _ingest_cycles(server, second, per_commit=4)
        assert [row["id"] for row in server.rows(_TABLE)] == first + second
        assert [row["id"] for row in server.rows(_TABLE, limit=63)] == (first + second)[:63]
    # Any reader gets log order by sorting the files by name: each holds one commit's rows.
    names = _file_names(delta_path)
    assert len(names) == 12 + 10 and all(data_file_seq(name) is not None for name in names)
    dataset = open_dataset(delta_path)
    by_name = sorted(dataset.get_fragments(), key=lambda fragment: PurePosixPath(fragment.path).name)
    ids = [i for fragment in by_name for i in fragment.to_table().column("id").to_pylist()]
    assert ids == first + second


def test_rows_keep_log_order_after_the_early_log_is_cleaned_up_behind_a_checkpoint(tmp_path: Path) -> None:
    """Delta removes expired commit files once a checkpoint holds them (`cleanup_metadata`, or after
    every checkpoint): nothing but the files' names then says which commit added a file."""
    ids = _scrambled(48)
    with LocalZerobusServer(
        data_dir=tmp_path / "data", materialize_delay_s=3600, tables={_TABLE: "id BIGINT"}
    ) as server:
        _ingest_cycles(server, ids[:40], per_commit=4)
        delta_path = server.table_path(_TABLE)
        table = DeltaTable(str(delta_path))
        table.create_checkpoint()
        # What `cleanup_metadata` does once the commits are older than the log retention.
        checkpoint_version = table.version()
        for commit in (delta_path / "_delta_log").glob("*.json"):
            if int(commit.stem) < checkpoint_version:
                commit.unlink()
        assert DeltaTable(str(delta_path)).version() == checkpoint_version
        _ingest_cycles(server, ids[40:], per_commit=4)
        assert [row["id"] for row in server.rows(_TABLE)] == ids


def test_a_table_with_files_named_by_an_earlier_version_reads_back_in_commit_order(tmp_path: Path) -> None:
    """Files named by `write_deltalake` (no log seq) come first, in the order of their commits."""
    data_dir = tmp_path / "data"
    legacy = [_scrambled(3, start=10 * commit) for commit in range(8)]
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={_TABLE: "id BIGINT"}
    ) as server:
        delta_path = server.table_path(_TABLE)
    for ids in legacy:  # what the materialiser of an earlier version wrote: plain write_deltalake appends
        write_deltalake(str(delta_path), pa.table({"id": pa.array(ids, pa.int64())}), mode="append")
    assert all(data_file_seq(name) is None for name in _file_names(delta_path))
    legacy_ids = [i for ids in legacy for i in ids]
    new_ids = _scrambled(12, start=500)
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={_TABLE: "id BIGINT"}
    ) as server:
        assert [row["id"] for row in server.rows(_TABLE)] == legacy_ids
        _ingest_cycles(server, new_ids, per_commit=3)
        assert [row["id"] for row in server.rows(_TABLE)] == legacy_ids + new_ids
        assert [row["id"] for row in server.rows(_TABLE, limit=5)] == legacy_ids[:5]
        assert server.rows(_TABLE, limit=0) == []
