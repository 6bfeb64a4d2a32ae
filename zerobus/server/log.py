"""The durable, append-only record log of each table, with group commit.

Every accepted ingest request becomes one frame, numbered by a per-table sequence number
(`seq`, from 0, never reused). `append()` only queues the frame; one `GroupCommitter` thread
writes everything queued for a log in one `write` and one `fsync` (which releases the GIL), then
reports the highest durable `seq`, so acks are sent only for what is on disk and many requests
share one fsync.

On disk: segment files ``<first seq, 20 digits>.log`` holding frames
``[u32 payload length][u32 crc32(seq + payload)][u64 seq][payload]`` (little-endian). A crash can
leave a torn frame at the end of the newest segment; opening the log truncates it (it was never
acknowledged). Segments whose frames are all materialised are deleted.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["GroupCommitter", "LogClosed", "TableLog"]

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("<IIQ")
_SEQ = struct.Struct("<Q")
SEGMENT_BYTES = 64 * 1024 * 1024


class LogClosed(RuntimeError):
    """The log was closed (server stopping or table dropped)."""


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
        self, directory: Path, committer: GroupCommitter, segment_bytes: int = SEGMENT_BYTES
    ) -> None:
        self.directory = directory
        self._committer = committer
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._commit_lock = threading.Lock()  # one writer at a time: the committer, or close()
        self._pending: list[bytes] = []
        self._dirty = False
        self._closed = False
        self.on_durable: Callable[[int], None] | None = None
        directory.mkdir(parents=True, exist_ok=True)
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
            logger.warning("log %s: truncating a torn tail after %d bytes (never acknowledged)", newest, good)
            with open(newest, "r+b") as handle:
                handle.truncate(good)
                handle.flush()
                os.fsync(handle.fileno())
        self._active_path = newest
        return int(newest.stem) if last_seq is None else last_seq + 1

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
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
            self._active_size += len(data)
        self.durable_seq = last
        if self._active_size >= self._segment_bytes:
            self._rotate(last + 1)
        callback = self.on_durable
        if callback is not None:
            callback(last)

    def _rotate(self, next_seq: int) -> None:
        os.close(self._fd)
        self._active_path = self.directory / _segment_name(next_seq)
        self._fd = os.open(self._active_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._active_size = 0
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def read_durable(self, after_seq: int) -> Iterator[tuple[int, bytes]]:
        """Durable frames with seq > `after_seq`, in order."""
        durable = self.durable_seq
        if durable <= after_seq:
            return
        segments = self._segments()
        starts = [int(p.stem) for p in segments]
        for index, path in enumerate(segments):
            following = starts[index + 1] if index + 1 < len(starts) else None
            if following is not None and following <= after_seq + 1:
                continue  # every frame of this segment is at or before after_seq
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                continue
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, _crc, seq = _HEADER.unpack_from(data, offset)
                end = offset + _HEADER.size + length
                if seq > durable or end > len(data):
                    return
                if seq > after_seq:
                    yield seq, data[offset + _HEADER.size : end]
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
