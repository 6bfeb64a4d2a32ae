"""Internal: what both drivers' `ZerobusArrowStream` do the same way (the logic is `ArrowSession`'s).

The sync stream blocks the calling thread; the asyncio one runs the same calls on a worker
thread. Reading the stream's state never waits, so it is written once here.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zerobus.engine.arrow_stats import ArrowStreamStats
    from zerobus.sdk.shared.arrow_session import ArrowSession

__all__ = ["ArrowStreamBase"]


class ArrowStreamBase:
    """The session an Arrow stream drives, and the parts of its API that never wait."""

    def __init__(self, session: ArrowSession) -> None:
        self._session = session

    def _send_batch(self, batch: object, abort: threading.Event | None = None) -> int:
        """Check `batch`, cut it under the request limit, send the pieces; the last one's offset."""
        session = self._session
        offset = -1
        for piece in session.prepare(batch):
            offset = session.send(piece, abort)
        return offset

    @property
    def is_closed(self) -> bool:
        return self._session.is_closed

    @property
    def table_name(self) -> str:
        return self._session.plan.table_name

    def stats(self) -> ArrowStreamStats:
        """A snapshot of this stream's counts and ack latency: rows as records, batches as requests.

        Safe from any thread, at any time, also after the stream closed or failed; the same
        stream is counted in `sdk.stats()` and OpenTelemetry with the record streams.
        """
        return self._session.stats()
