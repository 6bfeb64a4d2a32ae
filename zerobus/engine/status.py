"""Internal: Where a stream stands: its phase, its errors, and who waits for it to move on.

Flushes, `wait_for_offset`, ack futures and the caller of `create_stream` wait here. An
acknowledgment releases the waiters of the offsets it covers; the stream failing or closing
releases every one, with the error that says why.
"""

from __future__ import annotations

from zerobus.engine.effects import StreamTimeoutError
from zerobus.engine.state import TERMINAL_STATES, StreamState, check_transition
from zerobus.engine.waiters import Waiter, WaiterQueue
from zerobus.error_text import failure_text
from zerobus.errors import NonRetriableException, ZerobusException

__all__ = ["StreamStatus"]


class StreamStatus:
    """The stream's phase, failure, last error and waiters. Not thread-safe, like the engine."""

    def __init__(self) -> None:
        self.phase = StreamState.UNINITIALIZED
        self.closing = False
        self.stream_id: str | None = None
        self.failure: ZerobusException | None = None
        self.last_error: ZerobusException | None = None
        self.last_error_at: float | None = None
        self.recoveries = 0
        self._flushes = 0
        self._waiters = WaiterQueue()
        self._open_waiters: list[Waiter] = []

    @property
    def state(self) -> StreamState:
        """The public state: FLUSHING while OPENED and a flush or close waits."""
        if self.phase is StreamState.OPENED and self._flushes:
            return StreamState.FLUSHING
        return self.phase

    @property
    def ended(self) -> bool:
        """CLOSED or FAILED: nothing more happens."""
        return self.phase in TERMINAL_STATES

    def _set_phase(self, phase: StreamState) -> None:
        check_transition(self.phase, phase)
        self.phase = phase

    # --- transitions ------------------------------------------------------------------------------

    def opened(self, stream_id: str) -> tuple[bool, list[Waiter]]:
        """A call opened as `stream_id`: whether it is the first, and the waiters it releases."""
        first = self.phase is StreamState.UNINITIALIZED
        self._set_phase(StreamState.OPENED)
        self.stream_id = stream_id
        if not first:
            self.recoveries += 1
        released, self._open_waiters = self._open_waiters, []
        return first, released

    def recovering(self) -> None:
        if self.phase is StreamState.OPENED:
            self._set_phase(StreamState.RECOVERING)

    def errored(self, error: ZerobusException, now: float) -> None:
        """A call ended with `error` (the stream may still recover)."""
        self.last_error = error
        self.last_error_at = now

    def failed(self, error: ZerobusException, now: float) -> list[Waiter]:
        """The stream failed for good: every waiter, to be released with the error."""
        self._set_phase(StreamState.FAILED)
        self.failure = error
        self.last_error_at = now
        return self._release_all()

    def closed(self) -> list[Waiter]:
        """Everything was acknowledged and the stream is CLOSED: every waiter, to be released."""
        self._set_phase(StreamState.CLOSED)
        return self._release_all()

    def _release_all(self) -> list[Waiter]:
        released = self._open_waiters + self._waiters.drain()
        self._open_waiters = []
        return released

    def rejection(self) -> ZerobusException:
        """The error an ingest call gets once the stream no longer accepts records."""
        if self.failure is not None:
            return type(self.failure)(failure_text("stream", self.failure.message), cause=self.failure)
        return NonRetriableException(
            "stream is closed: no more records can be ingested (create a new stream)"
        )

    # --- waiting ----------------------------------------------------------------------------------

    def add_open_waiter(self, waiter: Waiter) -> None:
        """`waiter` is resolved when the first call opens, or with the error if creation fails."""
        if self.phase is StreamState.UNINITIALIZED:
            self._open_waiters.append(waiter)
        else:
            waiter.resolve(self.failure)

    def add_waiter(self, offset: int, waiter: Waiter, durable: int, last: int) -> bool:
        """Wait for `offset` (`durable` and `last`: the stream's offsets now); False if it is durable.

        Raises the stream's failure if it failed before `offset` became durable.
        """
        if offset <= durable:
            return False
        if self.failure is not None:
            raise self.rejection()
        if offset > last:
            raise ValueError(f"offset {offset} was never handed out (the last one is {last})")
        if self.phase is StreamState.CLOSED:
            raise self.rejection()
        self._waiters.add(offset, waiter)
        return True

    def discard_waiter(self, waiter: Waiter) -> None:
        self._waiters.discard(waiter)

    def release_up_to(self, offset: int) -> list[Waiter]:
        """The waiters `offset` becoming durable releases."""
        return self._waiters.release_up_to(offset) if len(self._waiters) else []

    def begin_flush(self, durable: int, last: int) -> int | None:
        """The offset a flush must wait for, or None if everything is durable already."""
        if self.failure is not None:
            raise self.rejection()
        if last <= durable:
            return None
        self._flushes += 1
        return last

    def end_flush(self) -> None:
        self._flushes -= 1

    def timeout_error(self, what: str, timeout_s: float, unacked: int) -> StreamTimeoutError:
        """A timeout naming what was pending and the last real error seen, if any."""
        text = f"{what} timed out after {timeout_s:g} s with {unacked} records unacknowledged"
        if self.last_error is not None:
            text += f"; last error: {self.last_error.message}"
        return StreamTimeoutError(text, cause=self.last_error)
