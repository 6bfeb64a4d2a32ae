"""Disk write errors: a failed log write is never acknowledged, and never hides later frames."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.server.wire_client import open_stream
from zerobus.schema.descriptor import descriptor_proto, message_class
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.disk_faults import DiskFaults
from zerobus.server.storage.log import GroupCommitter, LogCorrupted, TableLog

# (errno, short, at): a full disk, a write cut short by a full disk, an I/O error at fsync.
DISK_FAULTS = [
    pytest.param(errno.ENOSPC, False, "write", id="enospc"),
    pytest.param(errno.ENOSPC, True, "write", id="short-write"),
    pytest.param(errno.EIO, False, "fsync", id="fsync-eio"),
]


@pytest.fixture
def manual_committer() -> Iterator[GroupCommitter]:
    """A committer whose thread has stopped: tests commit by hand, so each group is known."""
    committer = GroupCommitter()
    committer.stop()
    yield committer


def _segment(directory: Path) -> Path:
    (segment,) = directory.glob("*.log")
    return segment


@pytest.mark.parametrize(("code", "short", "at"), DISK_FAULTS)
def test_a_failed_group_is_never_durable_and_the_file_is_cut_back(
    tmp_path: Path, manual_committer: GroupCommitter, code: int, short: bool, at: str
) -> None:
    faults = DiskFaults()
    log = TableLog(tmp_path / "log", manual_committer, disk_faults=faults)
    log.append(b"a")
    log.append(b"b")
    log.commit()
    good_size = _segment(tmp_path / "log").stat().st_size
    faults.fail_writes(code, short=short, at=at)  # type: ignore[arg-type]
    log.append(b"lost-1")
    log.append(b"lost-2")
    log.commit()
    assert log.durable_seq == 1
    assert log.write_failures == 1
    (failure,) = log.failures_since(0) or []
    assert (failure.first_seq, failure.last_seq) == (2, 3)
    assert failure.error.startswith(f"[Errno {code}]")
    assert _segment(tmp_path / "log").stat().st_size == good_size  # back to the last good frame
    log.append(b"c")
    log.commit()
    assert log.durable_seq == 4
    assert list(log.read_durable(-1)) == [(0, b"a"), (1, b"b"), (4, b"c")]
    log.close()
    reopened = TableLog(tmp_path / "log", manual_committer)
    assert list(reopened.read_durable(-1)) == [(0, b"a"), (1, b"b"), (4, b"c")]
    assert reopened.next_seq == 5
    reopened.close()


def test_a_cut_back_that_fails_is_done_before_the_next_write(
    tmp_path: Path, manual_committer: GroupCommitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zerobus.server.storage.log as log_module

    faults = DiskFaults()
    log = TableLog(tmp_path / "log", manual_committer, disk_faults=faults)
    log.append(b"a")
    log.commit()
    good_size = _segment(tmp_path / "log").stat().st_size
    real_ftruncate = log_module.os.ftruncate
    calls: list[int] = []

    def ftruncate_failing_once(fd: int, length: int) -> None:
        calls.append(length)
        if len(calls) == 1:  # the disk is still failing when the log first tries to cut back
            raise OSError(errno.EIO, "injected")
        real_ftruncate(fd, length)

    monkeypatch.setattr(log_module.os, "ftruncate", ftruncate_failing_once)
    faults.fail_writes(errno.ENOSPC, short=True)
    log.append(b"torn")
    log.commit()
    assert _segment(tmp_path / "log").stat().st_size > good_size  # the torn half is still there
    log.append(b"b")
    log.commit()
    assert calls == [good_size, good_size]
    assert list(log.read_durable(-1)) == [(0, b"a"), (2, b"b")]
    log.close()
    assert list(TableLog(tmp_path / "log", manual_committer).read_durable(-1)) == [(0, b"a"), (2, b"b")]


def test_a_reader_refuses_a_frame_whose_checksum_does_not_match(
    tmp_path: Path, manual_committer: GroupCommitter
) -> None:
    log = TableLog(tmp_path / "log", manual_committer)
    for payload in (b"first", b"second", b"third"):
        log.append(payload)
    log.commit()
    segment = _segment(tmp_path / "log")
    data = bytearray(segment.read_bytes())
    data[data.index(b"second")] ^= 0x01  # the durable middle frame rots on disk
    segment.write_bytes(bytes(data))
    frames = log.read_durable(-1)
    assert next(frames) == (0, b"first")
    with pytest.raises(LogCorrupted, match=rf"{segment.name}.*seq 1.*checksum"):
        next(frames)
    log.close()


def test_reopening_keeps_a_copy_of_the_bytes_it_cuts(
    tmp_path: Path, manual_committer: GroupCommitter
) -> None:
    log = TableLog(tmp_path / "log", manual_committer)
    log.append(b"kept")
    log.close()
    segment = _segment(tmp_path / "log")
    intact = segment.stat().st_size
    with open(segment, "ab") as handle:
        handle.write(b"\x10\x00\x00\x00torn")
    reopened = TableLog(tmp_path / "log", manual_committer)
    assert list(reopened.read_durable(-1)) == [(0, b"kept")]
    assert segment.stat().st_size == intact
    copy = segment.with_name(f"{segment.name}.cut-at-{intact}")
    assert copy.read_bytes() == b"\x10\x00\x00\x00torn"
    reopened.close()


def test_fault_arguments_are_checked() -> None:
    faults = DiskFaults()
    with pytest.raises(ValueError, match="count must be >= 1, got 0"):
        faults.fail_writes(count=0)
    with pytest.raises(ValueError, match="errno must be a positive"):
        faults.fail_writes(errno=0)
    with pytest.raises(ValueError, match="at must be 'write' or 'fsync', got 'close'"):
        faults.fail_writes(at="close")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="short=True needs at='write'"):
        faults.fail_writes(short=True, at="fsync")
    assert faults.take() is None


# --- over gRPC ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "short", "at"), DISK_FAULTS)
def test_requests_of_a_failed_write_end_the_call_retryably_unacknowledged(
    zerobus_server: LocalZerobusServer, make_table, code: int, short: bool, at: str
) -> None:
    kit = make_table("id BIGINT NOT NULL")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=0))
        assert stream.wait_acked(0)
        zerobus_server.faults.fail_log_writes(code, short=short, at=at)  # type: ignore[arg-type]
        stream.batch(1, [kit.encode(id=1), kit.encode(id=2)])
        error = stream.wait_done()
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
        assert "could not write the request at offset 1 to disk" in (error.details() or "")
        assert f"[Errno {code}]" in (error.details() or "")
        assert stream.acked == 0
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.batch(0, [kit.encode(id=1), kit.encode(id=2)])  # the client resends what was unacked
        assert stream.wait_acked(0)
    assert [row["id"] for row in zerobus_server.rows(kit.name)] == [0, 1, 2]


def test_acknowledged_frames_after_a_failed_write_survive_a_restart(tmp_path: Path) -> None:
    with LocalZerobusServer(
        data_dir=tmp_path, materialize_delay_s=3600, tables={"a.b.c": "id BIGINT"}
    ) as server:
        schema = server.table_schema("a.b.c")
        cls, descriptor = message_class(schema), descriptor_proto(schema).SerializeToString()
        acked: list[int] = []
        for attempt in range(3):
            with open_stream(server, "a.b.c", descriptor) as stream:
                stream.wait_created()
                stream.record(0, cls(id=attempt * 10).SerializeToString())
                assert stream.wait_acked(0)
                acked.append(attempt * 10)
                server.faults.fail_log_writes(errno.ENOSPC, short=True)  # a torn frame after an acked one
                stream.record(1, cls(id=attempt * 10 + 1).SerializeToString())
                assert stream.wait_done() is not None and stream.acked == 0
        log_dir = server.table_path("a.b.c").parent / "log"
        log_files = {path: path.stat().st_size for path in log_dir.glob("*.log")}
    with LocalZerobusServer(data_dir=tmp_path, materialize_delay_s=3600) as server:
        assert {path: path.stat().st_size for path in log_dir.glob("*.log")} == log_files  # nothing cut
        assert [row["id"] for row in server.rows("a.b.c")] == acked


def test_a_descriptor_that_cannot_be_saved_fails_creation_retryably(
    zerobus_server: LocalZerobusServer, make_table, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zerobus.server.storage.tables as tables_module

    kit = make_table("id BIGINT NOT NULL")

    def full_disk(path: Path, data: bytes, mode: int = 0o644) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    # A full disk cannot be had for one file only: the one place a fake stands in for the kernel.
    with monkeypatch.context() as patched:
        patched.setattr(tables_module, "atomic_write", full_disk)
        with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
            error = stream.wait_done()
    assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE
    assert "could not save the stream's descriptor" in (error.details() or "")
    assert "No space left on device" in (error.details() or "")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:  # the disk has room again
        stream.wait_created()
        stream.record(0, kit.encode(id=1))
        assert stream.wait_acked(0)
