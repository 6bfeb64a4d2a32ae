"""Internal: `ZerobusArrowStream` (asyncio): the same stream as the sync one, awaited.

The Flight client blocks, so each operation runs on a worker thread (`run_blocking`) and the
event loop stays free. Cancelling the awaiting task gives the wait up at once: the thread's
wait is aborted; a batch already handed to the stream stays in it (sent, and resent if needed).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from zerobus.sdk.aio.blocking import run_blocking
from zerobus.sdk.shared.arrow_stream_base import ArrowStreamBase

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ZerobusArrowStream"]

T = TypeVar("T")


class ZerobusArrowStream(ArrowStreamBase):
    """An Arrow Flight stream to one table, made by `await ZerobusSdk.create_arrow_stream(...)`."""

    async def _run(self, work: Callable[[threading.Event], T]) -> T:
        abort = threading.Event()
        try:
            return await run_blocking(lambda: work(abort), "zerobus-arrow")
        except asyncio.CancelledError:
            abort.set()
            self._session.wake()
            raise

    async def ingest_batch(self, batch: object) -> int:
        """Send `batch` (waiting while `max_inflight_batches` are unacknowledged); its last offset."""
        return await self._run(lambda abort: self._send_batch(batch, abort))

    async def wait_for_offset(self, offset: int) -> None:
        """Wait until the batch at `offset` (and every one before it) is acknowledged."""
        await self._run(lambda abort: self._session.wait_for_offset(offset, abort))

    async def flush(self) -> None:
        """Wait until every batch ingested so far is acknowledged (`flush_timeout_ms`)."""
        await self._run(self._session.flush)

    async def close(self) -> None:
        """Flush, then end the call. Idempotent; raises the stream's error if it failed."""
        await self._run(self._session.close)

    async def get_unacked_batches(self) -> list[pa.RecordBatch]:
        """Every batch the server has not acknowledged, in order (for a new stream to resend)."""
        return self._session.unacked()
