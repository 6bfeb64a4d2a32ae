"""`ZerobusArrowStream` (synchronous): record batches and DataFrames over Arrow Flight.

Every method blocks the calling thread; the logic is `zerobus.sdk.shared.arrow_session`.
pyarrow is imported only once a stream exists, so `import zerobus.sdk.sync` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from zerobus.engine.arrow_stats import ArrowStreamStats
    from zerobus.sdk.shared.arrow_session import ArrowSession

__all__ = ["ZerobusArrowStream"]


class ZerobusArrowStream:
    """An Arrow Flight stream to one table, made by `ZerobusSdk.create_arrow_stream`.

    `ingest_batch` takes a `pyarrow.RecordBatch` or `Table`, or a DataFrame exporting the Arrow
    PyCapsule interface (polars, pandas), checks it against the stream's schema, cuts it under
    the 10 MiB request limit and returns the offset of its last batch; `flush()` waits until
    everything ingested is durable.
    """

    def __init__(self, session: ArrowSession) -> None:
        self._session = session

    def ingest_batch(self, batch: Any) -> int:
        """Send `batch` (waiting while `max_inflight_batches` are unacknowledged); its offset.

        A batch over the request limit goes out as several consecutive batches (offsets), and
        the offset returned is the last one: waiting for it confirms them all.
        """
        session = self._session
        offset = -1
        for piece in session.prepare(batch):
            offset = session.send(piece)
        return offset

    def wait_for_offset(self, offset: int) -> None:
        """Block until the batch at `offset` (and every one before it) is acknowledged."""
        self._session.wait_for_offset(offset)

    def flush(self) -> None:
        """Block until every batch ingested so far is acknowledged (`flush_timeout_ms`)."""
        self._session.flush()

    def close(self) -> None:
        """Flush, then end the call. Idempotent; raises the stream's error if it failed."""
        self._session.close()

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

    def get_unacked_batches(self) -> list[pa.RecordBatch]:
        """Every batch the server has not acknowledged, in order (for a new stream to resend)."""
        return self._session.unacked()
