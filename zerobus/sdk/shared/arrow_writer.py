"""Internal: The thread that writes an Arrow stream's batches onto its Flight calls, in offset order.

A Flight write blocks until gRPC has taken the whole message, and the caller would wait there
instead of preparing its next batch; so `ingest_batch` returns once its batch is in the ledger
and queued here, and this one thread writes the queue in order (one writer per stream keeps a
call's batches in offset order). Every queued batch names the call it was numbered for: one
whose call has since been replaced is skipped, because the recovery that replaced it resent
every unacknowledged batch on the new call first. A failed write is reported to the stream,
which recovers (or fails) exactly as if the caller's own write had failed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from zerobus.sdk.shared.arrow_flight import FlightCall

__all__ = ["BatchWriter"]

logger = logging.getLogger(__name__)

_Item = tuple["FlightCall", int, "pa.RecordBatch"]


class BatchWriter:
    """Writes queued batches to their calls on its own thread until `stop()`."""

    def __init__(
        self,
        is_current: Callable[[FlightCall], bool],
        on_write_failed: Callable[[FlightCall, BaseException], None],
    ) -> None:
        self._is_current = is_current
        self._on_write_failed = on_write_failed
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="zerobus-arrow-writer", daemon=True)
        self._thread.start()

    def put(self, call: FlightCall, physical: int, batch: pa.RecordBatch) -> None:
        """Queue `batch` for `call` at `physical` (callers queue in offset order)."""
        self._queue.put((call, physical, batch))

    def stop(self) -> None:
        """End the thread once it has gone through what is queued (batches of a current call are written)."""
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            call, physical, batch = item
            if not self._is_current(call):
                continue  # replaced: the recovery resent this batch on the new call
            try:
                call.send(batch, physical)
            except Exception as error:  # whatever it is, the stream decides (recover or fail)
                self._report(call, error)

    def _report(self, call: FlightCall, error: BaseException) -> None:
        try:
            self._on_write_failed(call, error)
        except Exception:  # the thread must go on writing for the next call
            logger.exception("handling a failed Arrow Flight write failed")
