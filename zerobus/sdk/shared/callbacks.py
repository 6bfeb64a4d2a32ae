"""Internal: Runs user callbacks on their own thread, never under a stream's lock.

Acknowledgment ranges, failures and `add_done_callback` functions are queued here by the
drivers and run in order on one daemon thread per stream (started on first use, gone after
a while idle). A callback that raises is logged once and does not affect the stream.
`drain(timeout)` lets `close()` wait `callback_max_wait_time_ms` for what is queued.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from zerobus.protocol import IngestRecordResponse
from zerobus.sdk.shared.options import AckCallback

__all__ = ["CallbackDispatcher"]

logger = logging.getLogger(__name__)

_IDLE_EXIT_S = 5.0


class CallbackDispatcher:
    """One queue, one thread: callbacks run in the order their events happened."""

    def __init__(self, ack_callback: Any, name: str) -> None:
        self._ack_callback = ack_callback
        self._name = name
        self._items: deque[tuple[Callable[..., object], tuple[Any, ...]]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._running = False
        self._busy = False
        self._errors = 0

    @property
    def has_ack_callback(self) -> bool:
        return self._ack_callback is not None

    def acked(self, first: int, last: int) -> None:
        """Submissions `first`..`last` became durable."""
        callback = self._ack_callback
        if callback is None:
            return
        if isinstance(callback, AckCallback):
            self._put(self._each, (callback.on_ack, range(first, last + 1), ()))
        else:
            self._put(callback, (IngestRecordResponse(durability_ack_up_to_offset=last),))

    def failed(self, first: int, last: int, message: str) -> None:
        """Submissions `first`..`last` will never be acknowledged."""
        if isinstance(self._ack_callback, AckCallback):
            self._put(self._each, (self._ack_callback.on_error, range(first, last + 1), (message,)))

    def call(self, function: Callable[..., object], *args: Any) -> None:
        self._put(function, args)

    def _put(self, function: Callable[..., object], args: tuple[Any, ...]) -> None:
        with self._cond:
            self._items.append((function, args))
            if not self._running:
                self._running = True
                threading.Thread(
                    target=self._run, name=f"zerobus-callbacks-{self._name}", daemon=True
                ).start()
            else:
                self._cond.notify()

    def drain(self, timeout_s: float | None) -> bool:
        """Wait until every queued callback ran; False if `timeout_s` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items and not self._busy, timeout_s)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                if not self._items and not self._cond.wait_for(lambda: bool(self._items), _IDLE_EXIT_S):
                    self._running = False
                    return
                function, args = self._items.popleft()
                self._busy = True
            self._safe(function, args)

    def _each(self, function: Callable[..., object], offsets: range, extra: tuple[Any, ...]) -> None:
        for offset in offsets:
            try:
                function(offset, *extra)
            except Exception:
                self._report()

    def _safe(self, function: Callable[..., object], args: tuple[Any, ...]) -> None:
        try:
            function(*args)
        except Exception:
            self._report()

    def _report(self) -> None:
        self._errors += 1
        if self._errors == 1:
            logger.exception("a callback of stream %s raised; the stream carries on", self._name)
        else:
            logger.debug(
                "callback of stream %s raised again (%d so far)", self._name, self._errors, exc_info=True
            )
