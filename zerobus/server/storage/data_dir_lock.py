"""Internal: One server per data directory: an exclusive lock held for as long as a server has it open.

Two servers on one data directory would both append to each table's durable log and both commit
to its Delta table, so acknowledged records could be overwritten or written twice. The lock is an
OS file lock (released by the kernel when the process dies, so a killed server never leaves a
stale lock behind), taken before the server reads or writes anything in the directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from zerobus.errors import ConfigurationError

__all__ = ["LOCK_FILE", "DataDirInUse", "DataDirLock"]

LOCK_FILE = "server.lock"


class DataDirInUse(ConfigurationError):
    """Another server (in this process or another) has the data directory open."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(
            f"data directory {data_dir} is in use by another running server ({holder}): stop it, "
            "or give this one another --data-dir (or --in-memory)"
        )
        self.data_dir = data_dir


class DataDirLock:
    """The exclusive lock of one data directory; `release()` (or process exit) frees it."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / LOCK_FILE
        handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            _lock_exclusively(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise DataDirInUse(data_dir, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        """Free the lock; idempotent."""
        if self._handle is not None:
            self._handle.close()  # closing the file releases the OS lock
            self._handle = None


def _lock_exclusively(handle: IO[str]) -> None:
    """Take an exclusive, non-blocking lock on the file, or raise OSError when it is taken."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
