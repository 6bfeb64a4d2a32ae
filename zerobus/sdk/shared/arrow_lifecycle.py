"""Internal: The Arrow streams an SDK object has open: counted, and settled when the SDK or program ends.

An Arrow stream holds its batches until the server acknowledges them, like a record stream. So
from its first call until it is closed it is counted in `sdk.stats()` (and OpenTelemetry), and
registered with `zerobus.sdk.shared.unclosed` so that interpreter exit flushes and closes it.
`ZerobusSdk.close()` does the same for the SDK's own Arrow streams. Whatever could not be
delivered is reported at WARNING and stays in `get_unacked_batches()`.

Both drivers' Arrow streams block in threads (the asyncio one runs them in worker threads), so
settling one needs no event loop: it works the same for both, also once the loop has stopped.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Protocol

from zerobus.engine.stats import StreamStats
from zerobus.errors import ZerobusException
from zerobus.sdk.shared.stats_ledger import ledger_for
from zerobus.sdk.shared.unclosed import exit_loss_reason, forget, remember, report_left_open

__all__ = ["SettledStream", "close_arrow_streams", "closed", "opened", "settle"]

logger = logging.getLogger(__name__)


class SettledStream(Protocol):
    """What an Arrow session offers to be counted and settled."""

    @property
    def table_name(self) -> str: ...

    @property
    def flush_timeout_ms(self) -> int: ...

    @property
    def unacked_count(self) -> int: ...

    def stats(self) -> StreamStats: ...

    def close(self) -> None: ...

    def log_fields(self) -> dict[str, object]: ...

    def _settle_at_exit(self) -> None: ...


_open: weakref.WeakKeyDictionary[object, weakref.WeakSet[SettledStream]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def opened(owner: object, stream: SettledStream) -> None:
    """`stream` of the SDK keyed by `owner` (its `SdkConfig`) opened its first call."""
    ledger_for(owner).track(stream)
    remember(stream)
    with _lock:
        _open.setdefault(owner, weakref.WeakSet()).add(stream)


def closed(owner: object, stream: SettledStream) -> None:
    """`stream` is closed or failed for good: keep its final counts, nothing to settle."""
    forget(stream)
    with _lock:
        streams = _open.get(owner)
        if streams is not None:
            streams.discard(stream)
    ledger_for(owner).retire(stream)


def settle(stream: SettledStream) -> None:
    """Flush and close `stream` (bounded by its `flush_timeout_ms`); say what became of its batches."""
    reason = ""
    try:
        stream.close()
    except ZerobusException as error:
        reason = exit_loss_reason(error, stream.flush_timeout_ms)
    report_left_open(stream.table_name, stream.unacked_count, reason, stream.log_fields(), "batch(es)")


def close_arrow_streams(owner: object) -> None:
    """`ZerobusSdk.close()`: settle every Arrow stream of that SDK still open, in parallel."""
    with _lock:
        streams = list(_open.pop(owner, ()))
    if streams:
        logger.debug("closing %d Arrow stream(s) left open by the SDK's close()", len(streams))
    workers = [
        threading.Thread(target=_settle_logged, args=(s,), name="zerobus-arrow-close") for s in streams
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _settle_logged(stream: SettledStream) -> None:
    try:
        settle(stream)
    except Exception:  # one stream's trouble must not keep the others from closing
        logger.exception("closing an Arrow stream left open failed")
