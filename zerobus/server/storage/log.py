"""Internal: The durable, append-only record log of each table, with group commit.

Every accepted ingest request becomes one frame, numbered by a per-table sequence number
(`seq`, from 0, never reused). `append()` only queues the frame; one `GroupCommitter` thread
writes everything queued for a log in one `write` and one `fsync` (which releases the GIL), then
reports the highest durable `seq`, so acks are sent only for what is on disk and many requests
share one fsync.

On disk: segment files ``<first seq, 20 digits>.log`` holding frames
``[u32 payload length][u32 crc32(seq + payload)][u64 seq][payload]`` (little-endian). A crash can
leave a torn frame at the end of the newest segment; opening the log truncates it (it was never
acknowledged), keeping a copy of the bytes cut next to the segment. Segments whose frames are
all materialised are deleted.

A write or fsync that fails (a full disk, an I/O error) fails the whole group: its seqs are
recorded as failed (`failures_since`), never become durable, and the file is cut back to its
last good frame before anything else is written, so a torn frame can never sit in front of
frames written later. The seqs of failed frames are skipped, so the log may have gaps. Readers
verify every frame's checksum and raise `LogCorrupted` rather than hand out damaged data.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from zerobus.server.storage.atomic_files import atomic_write, ensure_directory, fsync_directory
from zerobus.server.storage.disk_faults import DiskFaults

__all__ = ["GroupCommitter", "LogClosed", "LogCorrupted", "TableLog", "WriteFailure"]

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")
SEGMENT_BYTES = 64 * 1024 * 1024
# Write failures remembered for `failures_since`; a reader that fell further behind is told so.
_FAILURES_KEPT = 1024


class LogClosed(RuntimeError):
    """The log was closed (server stopping or table dropped)."""


class LogCorrupted(RuntimeError):
    """A frame on disk does not match its checksum: its data must not be used."""


@dataclass(frozen=True)
class WriteFailure:
    """A group of frames (`first_seq`..`last_seq`) that could not be written; none is durable."""

    first_seq: int
    last_seq: int
    error: str


def _segment_name(first_seq: int) -> str:
    return f"{first_seq:020d}.log"


def _frame(seq: int, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq)))
    return _HEADER.pack(len(payload), crc, seq) + payload


def _scan(path: Path) -> tuple[int, int | None]:
    """(bytes of intact frames, last intact seq) of a segment."""
    good, last_seq = 0, None
    with open(path, "rb") as handle:
        data = handle.read()
    while good + _HEADER.size <= len(data):
        length, crc, seq = _HEADER.unpack_from(data, good)
        end = good + _HEADER.size + length
        if end > len(data):
            break
        payload = data[good + _HEADER.size : end]
        if zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) != crc:
            break
        good, last_seq = end, seq
    return good, last_seq


class TableLog:
    """One table's log. `append` from any thread; writes happen only in the committer thread."""

    def __init__(
        self,
        directory: Path,
        committer: GroupCommitter,
        segment_bytes: int = SEGMENT_BYTES,
        disk_faults: DiskFaults | None = None,
    ) -> None:
        self.directory = directory
        self._committer = committer
        self._segment_bytes = segment_bytes
        self._disk_faults = disk_faults
        self._failures: deque[WriteFailure] = deque(maxlen=_FAILURES_KEPT)
        # How many write failures so far; `failures_since` takes a count read from here.
        self.write_failures = 0
        # True while bytes of a failed write may still follow the last good frame.
        self._needs_restore = False
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one writer at a time: the committer, or close()
        self._pending: list[bytes] = []
        self._dirty = False
        self._closed = False
        # Called from the commit thread after every commit, successful or failed.
        self.on_durable: Callable[[int], None] | None = None
        # Where the last `read_durable` stopped: (segment, byte after its last frame handed out,
        # that frame's seq). A read resuming after that seq starts there instead of at the
        # segment's start; any other `after_seq` (a restart, a failed commit) reads from the start.
        self._read_cursor: tuple[Path, int, int] | None = None
        # Segment bytes read by `read_durable` so far (stats: it grows with new frames only).
        self.bytes_read = 0
        ensure_directory(directory)
        self._next_seq = self._recover()
        self.durable_seq = self._next_seq - 1
        self._fd = os.open(self._active_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._active_size = os.fstat(self._fd).st_size

    def _segments(self) -> list[Path]:
        return sorted(self.directory.glob("*.log"))

    def _recover(self) -> int:
        segments = self._segments()
        if not segments:
            self._active_path = self.directory / _segment_name(0)
            return 0
        newest = segments[-1]
        good, last_seq = _scan(newest)
        if good < newest.stat().st_size:
            self._cut_tail(newest, good)
        self._active_path = newest
        return int(newest.stem) if last_seq is None else last_seq + 1

    @staticmethod
    def _cut_tail(segment: Path, good: int) -> None:
        """Truncate what follows the last intact frame, keeping a copy of the bytes cut.

        A crash during a write leaves a torn frame that was never acknowledged; the copy only
        matters if the damage was anything else (a frame corrupted on disk), so no byte is destroyed.
        """
        with open(segment, "r+b") as handle:
            handle.seek(good)
            tail = handle.read()
            kept = segment.with_name(f"{segment.name}.cut-at-{good}")
            atomic_write(kept, tail)
            logger.warning(
                "log %s: cut %d bytes after the last intact frame (byte %d); they are kept in %s",
                segment,
                len(tail),
                good,
                kept.name,
            )
            handle.truncate(good)
            handle.flush()
            os.fsync(handle.fileno())

    @property
    def next_seq(self) -> int:
        return self._next_seq

    def append(self, payload: bytes) -> int:
        """Queue one frame; returns its seq. Durable once `durable_seq >= seq`."""
        with self._lock:
            if self._closed:
                raise LogClosed(f"log {self.directory} is closed")
            seq = self._next_seq
            self._next_seq = seq + 1
            self._pending.append(_frame(seq, payload))
            if self._dirty:
                return seq
            self._dirty = True
        self._committer.schedule(self)
        return seq

    def commit(self) -> None:
        """Write and fsync everything queued, then report it durable."""
        with self._commit_lock:
            self._commit()

    def _commit(self) -> None:
        if self._fd < 0:
            return
        with self._lock:
            frames, self._pending = self._pending, []
            self._dirty = False
            last = self._next_seq - 1
            if self._closed and not frames:
                return
        if frames:
            data = b"".join(frames)
            try:
                if self._needs_restore:
                    self._restore_last_good_frame()
                self._write_group(data)
            except OSError as error:
                self._fail_group(last - len(frames) + 1, last, error)
                return
            self._active_size += len(data)
        self.durable_seq = last
        if self._active_size >= self._segment_bytes:
            try:
                self._rotate(last + 1)
            except OSError as error:  # the active segment keeps growing; the next commit retries
                logger.warning("log %s: cannot start a new segment: %s", self.directory, error)
        self._notify(last)

    def _write_group(self, data: bytes) -> None:
        """Append `data` and fsync it; OSError if any of it may not be on disk."""
        fault = self._disk_faults.take() if self._disk_faults is not None else None
        if fault is not None and fault.at == "write":
            if fault.short:
                os.write(self._fd, data[: len(data) // 2])
            raise fault.error()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if fault is not None:
            raise fault.error()
        os.fsync(self._fd)

    def _fail_group(self, first_seq: int, last_seq: int, error: OSError) -> None:
        """Record the group as failed (before any later seq can become durable), then repair."""
        logger.error(
            "log %s: writing frames %d..%d failed, they are not acknowledged: %s",
            self.directory,
            first_seq,
            last_seq,
            error,
        )
        with self._lock:
            self._failures.append(WriteFailure(first_seq, last_seq, str(error)))
            self.write_failures += 1
        self._needs_restore = True
        try:
            self._restore_last_good_frame()
        except OSError as restore_error:  # retried before the next write
            logger.error(
                "log %s: cannot cut back to the last good frame yet: %s", self.directory, restore_error
            )
        self._notify(self.durable_seq)

    def _restore_last_good_frame(self) -> None:
        """Cut the active segment back to its last good frame, durably."""
        os.ftruncate(self._fd, self._active_size)
        os.fsync(self._fd)
        self._needs_restore = False

    def _notify(self, seq: int) -> None:
        callback = self.on_durable
        if callback is not None:
            callback(seq)

    def failures_since(self, seen: int) -> list[WriteFailure] | None:
        """Write failures numbered `seen` and later (`seen` is an earlier `write_failures`).

        None when some of them are no longer remembered: treat every unacknowledged frame as failed.
        """
        with self._lock:
            missed = self.write_failures - seen
            if missed > len(self._failures):
                return None
            return list(self._failures)[len(self._failures) - missed :] if missed else []

    def _rotate(self, next_seq: int) -> None:
        path = self.directory / _segment_name(next_seq)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fsync_directory(self.directory)
        except OSError:
            # Never leave a newer, empty segment behind: a restart would number frames from it.
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        os.close(self._fd)
        self._fd, self._active_path, self._active_size = fd, path, 0

    def read_durable(self, after_seq: int) -> Iterator[tuple[int, bytes]]:
        """Durable frames with seq > `after_seq`, in order (one reader thread: the materializer).

        `after_seq` (the Delta table's last materialised seq) decides what is handed out; the
        read cursor only saves re-reading frames already handed out after that same seq.
        """
        durable = self.durable_seq
        if durable <= after_seq:
            return
        segments = self._segments()
        starts = [int(p.stem) for p in segments]
        for index, path in enumerate(segments):
            following = starts[index + 1] if index + 1 < len(starts) else None
            if following is not None and following <= after_seq + 1:
                continue  # every frame of this segment is at or before after_seq
            cursor = self._read_cursor
            base = cursor[1] if cursor is not None and cursor[0] == path and cursor[2] == after_seq else 0
            try:
                with open(path, "rb") as handle:
                    handle.seek(base)
                    data = handle.read()
            except FileNotFoundError:
                continue
            self.bytes_read += len(data)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, crc, seq = _HEADER.unpack_from(data, offset)
                end = offset + _HEADER.size + length
                if seq > durable or end > len(data):
                    return
                payload = data[offset + _HEADER.size : end]
                if zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) != crc:
                    raise LogCorrupted(
                        f"log segment {path}: the frame at byte {base + offset} (seq {seq}, {length} bytes) "
                        "does not match its checksum; it is not used"
                    )
                if seq > after_seq:
                    self._read_cursor = (path, base + end, seq)
                    yield seq, payload
                offset = end

    def discard_through(self, seq: int) -> None:
        """Delete closed segments whose frames all have seq <= `seq` (they are materialised)."""
        segments = self._segments()
        for index, path in enumerate(segments[:-1]):
            if int(segments[index + 1].stem) <= seq + 1 and path != self._active_path:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Commit what is queued, then close. Appends after this raise `LogClosed`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with self._commit_lock:
            self._commit()
            os.close(self._fd)
            self._fd = -1


class GroupCommitter:
    """The one thread that writes and fsyncs logs with queued frames (group commit)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._dirty: list[TableLog] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="zerobus-log-commit", daemon=True)
        self._thread.start()

    def schedule(self, log: TableLog) -> None:
        with self._condition:
            self._dirty.append(log)
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._dirty and not self._stopping:
                    self._condition.wait()
                if not self._dirty and self._stopping:
                    return
                batch, self._dirty = self._dirty, []
            for log in batch:
                try:
                    log.commit()
                except OSError:
                    logger.exception("log %s: commit failed", log.directory)

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join()
