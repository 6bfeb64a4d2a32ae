"""Internal: Durable, atomic file writes: the one way the local server puts a whole file on disk.

A reader (or a server restarted after a crash) sees either the old file or the complete new
one, never a prefix. Each writer gets its own temporary file in the target's directory, so
concurrent writers of the same path cannot remove each other's temporary file; the last
`os.replace` wins, and every writer's content is complete. The directory is fsynced after the
rename so the new name itself survives a power loss, not only the file's bytes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "atomic_write", "ensure_directory", "fsync_directory", "remove_stale_temp_files"]

logger = logging.getLogger(__name__)

# Temporary files end with this; names a glob for the real files (``*.json``, ``*.pb``) skips.
TEMP_SUFFIX = ".partial"


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (creations, renames, deletions) durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(directory: Path) -> None:
    """Delete temporary files a crash left behind (only at start, when no write is running)."""
    for stale in directory.glob(f".*{TEMP_SUFFIX}"):
        logger.info("removing %s, left by an interrupted write", stale)
        stale.unlink(missing_ok=True)


def ensure_directory(directory: Path) -> None:
    """Create `directory` (and missing parents) so that its existence survives a crash."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    directory.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        fsync_directory(created.parent)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` atomically and durably (temp file, fsync, rename, fsync directory).

    `mode` is set before any byte is written (0o600 keeps a private key private throughout).
    """
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_directory(directory)
