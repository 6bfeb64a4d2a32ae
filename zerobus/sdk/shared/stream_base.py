"""The parts of a stream that do not depend on how I/O is done, shared by both drivers."""

from __future__ import annotations

import time
from typing import Any

from zerobus.engine import Effects, StreamCore, StreamState, create_stream_request
from zerobus.errors import ZerobusException
from zerobus.sdk.shared.callbacks import CallbackDispatcher
from zerobus.sdk.shared.setup import SdkConfig, StreamPlan

__all__ = ["StreamBase"]


class StreamBase:
    """State, encoder, engine and callbacks of a stream; the drivers add the I/O."""

    def __init__(self, config: SdkConfig, plan: StreamPlan) -> None:
        self._config = config
        self._plan = plan
        self._core = StreamCore(plan.engine, time.monotonic)
        self._encoder = plan.encoder
        self._encode = plan.encoder.encode
        self._callbacks = CallbackDispatcher(plan.options.ack_callback, plan.table.table_name)
        self._failure_reported = False
        self._create_request = create_stream_request(*self._core.create_request_fields())

    # --- the official API's read-only parts ---------------------------------------------------

    @property
    def stream_id(self) -> str | None:
        """The server's id of the current call's stream (changes when the stream recovers)."""
        return self._core.stream_id

    @property
    def table_properties(self) -> Any:
        return self._plan.table

    @property
    def options(self) -> Any:
        return self._plan.options

    def get_state(self) -> StreamState:
        return self._core.state

    # --- helpers for the drivers ----------------------------------------------------------------

    def _call_headers(self) -> list[tuple[str, str]]:
        """Metadata for a new call: a fresh token every time (blocking)."""
        return self._config.headers(self._plan.headers_provider, self._plan.table.table_name)

    def _resolve(self, effects: Effects) -> None:
        """Wake released waiters and queue callbacks (never under a lock)."""
        error = effects.error
        for waiter in effects.released:
            waiter.resolve(error)
        if effects.acked is not None and self._callbacks.has_ack_callback:
            self._callbacks.acked(*effects.acked)
        if effects.failed is not None and error is not None:
            self._callbacks.failed(*effects.failed, error.message)

    def _take_failure(self) -> ZerobusException | None:
        """The terminal failure, the first time a caller asks for it (close() reports it once)."""
        failure = self._core.failure
        if failure is None or self._failure_reported:
            return None
        self._failure_reported = True
        return self._core.rejection()

    def _wait_callbacks(self) -> None:
        limit = self._plan.options.callback_max_wait_time_ms
        self._callbacks.drain(None if limit is None else limit / 1000)
