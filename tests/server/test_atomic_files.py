"""`atomic_write`: the complete old file or the complete new one, never a mix or a leftover."""

from __future__ import annotations

import asyncio
import errno
import stat
from pathlib import Path

import pytest

from zerobus.server import LocalZerobusServer
from zerobus.server.storage.atomic_files import TEMP_SUFFIX, atomic_write, ensure_directory


def test_concurrent_writers_of_one_path_leave_one_complete_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    contents = [bytes([n]) * 65536 for n in range(32)]

    async def write_all() -> None:
        await asyncio.gather(*(asyncio.to_thread(atomic_write, target, data) for data in contents))

    asyncio.run(write_all())
    assert target.read_bytes() in contents
    assert [path.name for path in tmp_path.iterdir()] == ["shared.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zerobus.server.storage.atomic_files as atomic_files

    target = tmp_path / "entry.json"
    atomic_write(target, b"old")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_files.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["entry.json"]


def test_mode_is_applied(tmp_path: Path) -> None:
    atomic_write(tmp_path / "key.pem", b"secret", mode=0o600)
    atomic_write(tmp_path / "ca.pem", b"public")
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca.pem").stat().st_mode) == 0o644


def test_ensure_directory_creates_missing_parents(tmp_path: Path) -> None:
    ensure_directory(tmp_path / "a" / "b" / "c")
    ensure_directory(tmp_path / "a" / "b" / "c")  # idempotent
    assert (tmp_path / "a" / "b" / "c").is_dir()


def test_temporaries_left_by_a_crash_are_removed_at_start(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path, tables={"a.b.c": "id BIGINT"}):
        pass
    stale = tmp_path / "catalog" / f".x.json.abc123{TEMP_SUFFIX}"
    stale.write_bytes(b"{half")
    with LocalZerobusServer(data_dir=tmp_path) as server:
        assert server.table_names() == ["a.b.c"]
    assert not stale.exists()
