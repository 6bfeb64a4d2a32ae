"""Internal: Streams a program never closed: settled at exit where possible, never dropped silently.

A stream holds records until the server acknowledges them. A program that ends without
`close()` would lose that tail without a word, so each driver registers its open streams here.
At interpreter exit, `settle_streams_left_open()` (called by the sync SDK's exit hook, before it
closes the gRPC channels the streams still need) lets every stream flush and close, each bounded
by its own `flush_timeout_ms`, all at once. Whatever could not be delivered is reported at
WARNING with the count and the way to avoid it; an asyncio stream whose event loop stops under
it reports the same way at that moment (see `zerobus.sdk.aio.stream`).
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Protocol

from zerobus.error_text import failure_text

__all__ = [
    "LeftOpen",
    "exit_loss_reason",
    "forget",
    "remember",
    "report_left_open",
    "settle_streams_left_open",
]

logger = logging.getLogger(__name__)

ADVICE = "call stream.close() (or use `with` / `async with`) before the program ends"


class LeftOpen(Protocol):
    """What a driver's stream offers to be settled at exit."""

    def _settle_at_exit(self) -> None: ...


_open: weakref.WeakSet[LeftOpen] = weakref.WeakSet()
_lock = threading.Lock()


def remember(stream: LeftOpen) -> None:
    """`stream` is open: settle it at exit unless it is closed first."""
    with _lock:
        _open.add(stream)


def forget(stream: LeftOpen) -> None:
    """`stream` was closed (or has reported its own loss): nothing to do for it at exit."""
    with _lock:
        _open.discard(stream)


def report_left_open(
    table: str,
    undelivered: int,
    reason: str,
    fields: dict[str, Any] | None = None,
    unit: str = "record(s)",
) -> None:
    """Say what became of a stream the program never closed; a loss is always a WARNING.

    `fields`: the stream's structured log fields (`StreamCore.log_fields()`); `unit`: what
    `undelivered` counts ("batch(es)" for Arrow streams).
    """
    if undelivered:
        logger.warning(
            "stream to %s was never closed: %d %s were not acknowledged (%s) and may be lost; %s",
            table,
            undelivered,
            unit,
            reason,
            ADVICE,
            extra=fields,
        )
    else:
        logger.info(
            "stream to %s was never closed: flushed and closed at exit, nothing lost; %s",
            table,
            ADVICE,
            extra=fields,
        )


def exit_loss_reason(error: BaseException, flush_timeout_ms: int) -> str:
    """Why a close at exit left records behind: the flush timed out, or the stream had failed."""
    if isinstance(error, TimeoutError):
        return f"not acknowledged within flush_timeout_ms={flush_timeout_ms}"
    return failure_text("the stream", error)


def settle_streams_left_open() -> None:
    """Flush and close every stream still open, in parallel; returns when all are settled."""
    with _lock:
        streams = list(_open)
        _open.clear()
    if not streams:
        return
    logger.debug("settling %d stream(s) left open at exit", len(streams))
    workers = []
    for stream in streams:
        worker = threading.Thread(target=_settle, args=(stream,), name="zerobus-exit-close")
        try:
            worker.start()
        except RuntimeError:  # an interpreter that allows no new threads any more: one at a time
            _settle(stream)
            continue
        workers.append(worker)
    for worker in workers:
        worker.join()


def _settle(stream: LeftOpen) -> None:
    try:
        stream._settle_at_exit()
    except Exception:  # one stream's trouble must not keep the others from closing
        logger.exception("closing a stream left open at exit failed")
