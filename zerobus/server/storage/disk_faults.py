"""Internal: Disk faults for the durable log: a full or failing disk, without filling a real one.

Armed through `FaultInjector.fail_log_writes`; each `TableLog` asks `take()` right before it
writes a group of frames, and a fault it gets makes that write fail as the kernel would:

- ``at="write"``: `write` fails with the errno (ENOSPC, EIO, ...); with ``short=True`` it first
  writes half of the group's bytes, as a write cut short by a full disk leaves a torn frame.
- ``at="fsync"``: every byte is written but `fsync` fails, so nothing is known to be on disk.
"""

from __future__ import annotations

import errno as errno_codes
import os
import threading
from dataclasses import dataclass
from typing import Literal

__all__ = ["DiskFaults", "LogWriteFault", "WriteStage"]

WriteStage = Literal["write", "fsync"]


@dataclass(frozen=True)
class LogWriteFault:
    """How one log write must fail."""

    errno: int
    short: bool
    at: WriteStage

    def error(self) -> OSError:
        return OSError(self.errno, f"{os.strerror(self.errno)} (injected log {self.at} fault)")


class DiskFaults:
    """Armed log-write faults, consumed one per write (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[LogWriteFault] = []
        self.writes_failed = 0
        # Read without the lock on every write: True while a fault is armed.
        self.armed = False

    def fail_writes(
        self, errno: int = errno_codes.ENOSPC, count: int = 1, short: bool = False, at: WriteStage = "write"
    ) -> None:
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if errno <= 0:
            raise ValueError(f"errno must be a positive error number such as errno.ENOSPC, got {errno}")
        if at not in ("write", "fsync"):
            raise ValueError(f"at must be 'write' or 'fsync', got {at!r}")
        if short and at != "write":
            raise ValueError("short=True needs at='write' (a short write happens while writing)")
        with self._lock:
            self._armed.extend([LogWriteFault(errno, short, at)] * count)
            self.armed = True

    def take(self) -> LogWriteFault | None:
        """The fault the next log write must suffer, if one is armed."""
        if not self.armed:
            return None
        with self._lock:
            if not self._armed:
                return None
            fault = self._armed.pop(0)
            self.armed = bool(self._armed)
            self.writes_failed += 1
            return fault

    def reset(self) -> None:
        with self._lock:
            self._armed.clear()
            self.armed = False
