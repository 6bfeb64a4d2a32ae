"""Internal: What an engine call asks its driver to do afterwards, and the engine's timeout error."""

from __future__ import annotations

from zerobus.engine.waiters import Waiter
from zerobus.errors import ZerobusException

__all__ = ["Effects", "StreamTimeoutError"]


class StreamTimeoutError(ZerobusException, TimeoutError):
    """A flush, close or wait for an offset did not finish in time (the records are kept)."""


class Effects:
    """What the driver must do after an engine call, outside its lock."""

    __slots__ = ("acked", "cancel_call", "error", "failed", "reconnect_in", "released", "stop", "wake_all")

    def __init__(self) -> None:
        # Waiters to resolve: with None, or with `error` when the stream failed.
        self.released: list[Waiter] = []
        self.error: ZerobusException | None = None
        # (first, last) logical offsets that just became durable, for ack callbacks.
        self.acked: tuple[int, int] | None = None
        # (first, last) logical offsets that will never be acknowledged (terminal failure).
        self.failed: tuple[int, int] | None = None
        self.cancel_call = False
        # Wake the sender and anyone blocked on the in-flight window (state changed).
        self.wake_all = False
        # After a call ended: reconnect in this many seconds, or stop the supervisor.
        self.reconnect_in: float | None = None
        self.stop = False

    @classmethod
    def wake(cls) -> Effects:
        """Only a wake-up: the state changed in a way blocked callers and the sender must see."""
        effects = cls()
        effects.wake_all = True
        return effects
