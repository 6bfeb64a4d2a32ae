"""Internal: Log frames that cannot be written to Delta: kept on disk, out of the table's way, and reported.

The record checks refuse at ingest whatever Delta cannot hold, so a frame that still fails to
materialise is a defect or damage (an old log, a descriptor file gone). Retrying it forever
would block every later record of its table; dropping it would lose acknowledged data
silently. So the materializer moves it here instead: ``<table root>/quarantine/<seq>.frame``
holds the frame exactly as logged, ``<seq>.reason`` why it failed. Both are written durably
before the Delta commit that skips the frame. The directory is the source of truth: after a
restart the frames are still listed, and deleting a pair of files releases that frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from zerobus.server.storage.atomic_files import atomic_write, ensure_directory

__all__ = ["FrameQuarantine", "FramesQuarantined", "MaterializationFailing", "QuarantinedFrame"]

logger = logging.getLogger(__name__)

_FRAME = ".frame"
_REASON = ".reason"


@dataclass(frozen=True)
class QuarantinedFrame:
    """One log frame of `table` that could not be materialised (its rows are not in Delta)."""

    table: str
    seq: int
    reason: str
    path: Path  # the frame's bytes, as logged

    def __str__(self) -> str:
        return f"{self.table} log frame {self.seq} ({self.path}): {self.reason}"


class FramesQuarantined(RuntimeError):
    """Acknowledged records are not in Delta: their log frames were quarantined (see `frames`)."""

    def __init__(self, frames: list[QuarantinedFrame]) -> None:
        shown = "; ".join(map(str, frames[:5])) + (f"; and {len(frames) - 5} more" if len(frames) > 5 else "")
        super().__init__(
            f"{len(frames)} log frame(s) could not be materialised and were quarantined, their rows "
            f"are missing from Delta: {shown}"
        )
        self.frames = frames


class MaterializationFailing(RuntimeError):
    """Acknowledged records are not in Delta yet: writing the table keeps failing (it is retried)."""

    def __init__(self, table: str, error: str | None) -> None:
        super().__init__(
            f"acknowledged records of {table} are not all in Delta yet: materialisation keeps failing "
            f"and is retried ({error or 'no error recorded'})"
        )
        self.table = table
        self.error = error


class FrameQuarantine:
    """The quarantined frames of one table (thread-safe: files are written atomically)."""

    def __init__(self, table: str, directory: Path) -> None:
        self.table = table
        self.directory = directory

    def add(self, seq: int, payload: bytes, reason: str) -> bool:
        """Keep the frame and its reason durably; log it at ERROR. False if it was kept already."""
        ensure_directory(self.directory)
        path = self.directory / f"{seq:020d}{_FRAME}"
        if path.exists():
            return False
        # The reason first: a frame file always has its reason next to it.
        atomic_write(path.with_suffix(_REASON), reason.encode("utf-8", "backslashreplace"))
        atomic_write(path, payload)
        logger.error(
            "%s: log frame %d cannot be materialised; quarantined in %s (its rows are NOT in the "
            "Delta table): %s",
            self.table,
            seq,
            path,
            reason,
        )
        return True

    def frames(self) -> list[QuarantinedFrame]:
        """Every frame kept here, in log order."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{_FRAME}")):
            try:
                reason = path.with_suffix(_REASON).read_text("utf-8", "replace")
            except FileNotFoundError:
                reason = "(reason file missing)"
            found.append(QuarantinedFrame(self.table, int(path.stem), reason, path))
        return found
