"""Internal: The lifecycle of one physical call: open, sending, paused, rotating or doomed, and its deadlines.

A stream makes one call at a time; each new attempt gets the next `call_id`, and events from an
older call are ignored. Three deadlines are kept on the engine's clock: creating the call
(`recovery_timeout_ms`), an acknowledgment while something is in flight
(`server_lack_of_ack_timeout_ms`), and the pause after a `CloseStreamSignal`
(`stream_paused_max_wait_time_ms`). A call we decided to end (doomed with a reason, or rotating
after the close signal) has no deadlines left.
"""

from __future__ import annotations

import enum

from zerobus.errors import ZerobusException

__all__ = ["CallLifecycle", "Expired"]


class Expired(enum.Enum):
    """Which deadline of the current call passed."""

    CREATION = "creation"
    ACK = "ack"
    PAUSE = "pause"


class CallLifecycle:
    """The current call's id, flags and deadlines. Not thread-safe: the engine's caller serialises."""

    def __init__(self) -> None:
        self.call_id = 0
        self.created = False
        self.created_at = 0.0
        self.sending = False
        self.paused = False
        self.rotating = False
        # Why we cancel the call (a deadline passed); None if we did not.
        self.cancel_reason: ZerobusException | None = None
        self._creation_deadline: float | None = None
        self._ack_deadline: float | None = None
        self._pause_deadline: float | None = None

    def is_current(self, call_id: int) -> bool:
        return call_id == self.call_id

    @property
    def ending(self) -> bool:
        """We decided to end this call (doomed or rotating): no deadline matters any more."""
        return self.cancel_reason is not None or self.rotating

    # --- transitions ------------------------------------------------------------------------------

    def begin(self, now: float, creation_timeout_s: float) -> int:
        """A new attempt: returns its call id; it must answer create_stream within the timeout."""
        self.call_id += 1
        self.created = self.sending = self.paused = self.rotating = False
        self.cancel_reason = None
        self._ack_deadline = self._pause_deadline = None
        self._creation_deadline = now + creation_timeout_s
        return self.call_id

    def opened(self, now: float) -> None:
        """The server answered create_stream: the call may send."""
        self.created = True
        self.created_at = now
        self._creation_deadline = None
        self.sending = True

    def pause(self, until: float) -> None:
        """The close signal: send nothing more, drain acks until `until`."""
        self.sending = False
        self.paused = True
        self._pause_deadline = until

    def rotate(self) -> None:
        """End this call so that a new one takes over (the driver cancels it)."""
        self.rotating = True
        self.sending = False
        self._pause_deadline = None

    def doom(self, reason: ZerobusException) -> None:
        """End this call because of `reason` (the driver cancels it)."""
        self.cancel_reason = reason
        self.sending = False

    def stop_sending(self) -> None:
        self.sending = False

    def ended(self) -> bool:
        """The call is over; returns whether it had been opened."""
        was_open = self.created
        self.sending = self.created = False
        self._creation_deadline = self._ack_deadline = self._pause_deadline = None
        return was_open

    # --- the ack deadline -------------------------------------------------------------------------

    def expect_ack(self, now: float, timeout_s: float) -> None:
        """Something went out with nothing else in flight: an ack is due within `timeout_s`."""
        self._ack_deadline = now + timeout_s

    def acked(self, now: float, timeout_s: float, still_in_flight: bool) -> None:
        """An ack arrived: the next one is due within `timeout_s` if anything is still in flight."""
        self._ack_deadline = now + timeout_s if still_in_flight else None

    # --- deadlines --------------------------------------------------------------------------------

    def deadline(self) -> float | None:
        """The call's next deadline (None: nothing is timed)."""
        if self.ending:
            return None
        deadlines = [
            d for d in (self._creation_deadline, self._ack_deadline, self._pause_deadline) if d is not None
        ]
        return min(deadlines) if deadlines else None

    def expired(self, now: float) -> Expired | None:
        """Which deadline passed by `now`, creation first (None: none, or the call is ending)."""
        if self.ending:
            return None
        if self._creation_deadline is not None and now >= self._creation_deadline:
            return Expired.CREATION
        if self._ack_deadline is not None and now >= self._ack_deadline:
            return Expired.ACK
        if self._pause_deadline is not None and now >= self._pause_deadline:
            return Expired.PAUSE
        return None
