"""Internal: the part of `RecordAcknowledgment` both drivers share; the waiting is each driver's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from zerobus.sdk.shared.callbacks import CallbackDispatcher

if TYPE_CHECKING:
    from zerobus.sdk.shared.stream_base import StreamBase

__all__ = ["AckHandle"]


class _DoneCallback:
    """A waiter that runs `function(offset)` on the callback thread once the offset is durable."""

    __slots__ = ("callbacks", "function", "offset")

    def __init__(self, callbacks: CallbackDispatcher, offset: int, function: Callable[[int], object]) -> None:
        self.callbacks, self.offset, self.function = callbacks, offset, function

    def resolve(self, error: BaseException | None) -> None:
        if error is None:
            self.callbacks.call(self.function, self.offset)


class AckHandle:
    """The acknowledgment of one ingested record: its offset, whether it is durable, callbacks."""

    __slots__ = ("_stream", "offset")

    def __init__(self, stream: StreamBase, offset: int) -> None:
        self._stream = stream
        self.offset = offset

    def is_done(self) -> bool:
        """True once the record is durable, or will never be (the stream failed)."""
        core = self._stream._core
        return core.is_durable(self.offset) or core.failure is not None

    done = is_done

    def add_done_callback(self, callback: Callable[[int], object]) -> None:
        """Run `callback(offset)` once the record is durable: on the callback thread, or now if it is."""
        stream = self._stream
        waiter = _DoneCallback(stream._callbacks, self.offset, callback)
        with stream._guard:
            waiting = stream._core.failure is None and stream._core.add_waiter(self.offset, waiter)
        if not waiting and stream._core.is_durable(self.offset):
            callback(self.offset)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(offset={self.offset}, done={self.is_done()})"
