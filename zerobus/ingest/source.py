"""Internal: Opening an input file for the text readers: a raw reader that counts bytes and watches for waits.

Reading a pipe, a FIFO or standard input can wait for the writer. Before such a read waits,
`on_wait` runs, so rows already parsed are ingested instead of sitting in a half-full batch
(``tail -f app.log.jsonl | zerobus-ingest - ...`` lands rows as they come); during it, Ctrl-C
can interrupt (`StopRequest`). Regular files never wait and skip the check.
"""

from __future__ import annotations

import io
import os
import select
import stat
import sys
from collections.abc import Callable
from typing import IO

from zerobus.ingest.errors import InputFileError
from zerobus.ingest.interrupt import StopRequest

__all__ = ["STDIN", "WatchedReader", "open_binary", "text_stream"]

STDIN = "-"
_BUFFER_BYTES = 1 << 20


class WatchedReader(io.RawIOBase):
    """A file descriptor read through `os.read`, counting bytes and announcing waits."""

    def __init__(self, fd: int, stop: StopRequest, on_wait: Callable[[], None], closefd: bool) -> None:
        super().__init__()
        self._fd = fd
        self._stop = stop
        self._on_wait = on_wait
        self._closefd = closefd
        self._may_wait = not stat.S_ISREG(os.fstat(fd).st_mode)
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._may_wait:
            data = os.read(self._fd, len(buffer))
        else:
            if not select.select([self._fd], [], [], 0)[0]:
                self._on_wait()
            self._stop.enter_blocking_read()
            try:
                data = os.read(self._fd, len(buffer))
            finally:
                self._stop.leave_blocking_read()
        count = len(data)
        buffer[:count] = data
        self.bytes_read += count
        return count

    def close(self) -> None:
        if not self.closed and self._closefd:
            os.close(self._fd)
        super().close()


def open_binary(
    path: str, stop: StopRequest, on_wait: Callable[[], None]
) -> tuple[io.BufferedReader, WatchedReader]:
    """`path` (or standard input for ``-``) as a buffered binary stream, and its raw reader."""
    try:
        if path == STDIN:
            raw = WatchedReader(sys.stdin.fileno(), stop, on_wait, closefd=False)
        else:
            raw = WatchedReader(os.open(path, os.O_RDONLY), stop, on_wait, closefd=True)
    except OSError as error:
        raise InputFileError(path, f"cannot open: {error.strerror or error}") from error
    return io.BufferedReader(raw, buffer_size=_BUFFER_BYTES), raw


def text_stream(binary: io.BufferedReader) -> IO[str]:
    """UTF-8 text (a leading BOM dropped); bytes that are not UTF-8 survive as lone surrogates.

    Such a row is then refused by the SDK, naming the field and the line, instead of the whole
    file failing to decode at some buffer boundary.
    """
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
