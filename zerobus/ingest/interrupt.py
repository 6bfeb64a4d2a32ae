"""Internal: Ctrl-C during a run: stop reading, land what was read, then say how many rows landed.

The first SIGINT only sets `requested`; the run checks it between batches. A read that is
waiting for input (a pipe, a FIFO, a terminal) would wait on after the handler returns, so
while one is in progress the handler raises `ReadInterrupted` out of it instead: the only
place an exception is raised asynchronously, and it is outside the SDK. A second Ctrl-C
raises `KeyboardInterrupt` and abandons the wait for acknowledgements.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

__all__ = ["ReadInterrupted", "StopRequest"]


class ReadInterrupted(BaseException):
    """Raised out of a waiting read by the first Ctrl-C (a BaseException: nothing may swallow it)."""


class StopRequest:
    """Whether the user asked the run to stop, and the SIGINT handler that records it."""

    def __init__(self, on_request: Callable[[], None] = lambda: None) -> None:
        """`on_request` runs inside the handler at the first Ctrl-C (keep it to an `os.write`)."""
        self.requested = False
        self._in_blocking_read = False
        self._on_request = on_request

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Handle SIGINT while the block runs (only possible on the main thread; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    def request(self) -> None:
        """Ask the run to stop, as Ctrl-C does."""
        self.requested = True

    def enter_blocking_read(self) -> None:
        if self.requested:
            raise ReadInterrupted
        self._in_blocking_read = True

    def leave_blocking_read(self) -> None:
        self._in_blocking_read = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._on_request()
        if self._in_blocking_read:
            self._in_blocking_read = False
            raise ReadInterrupted
