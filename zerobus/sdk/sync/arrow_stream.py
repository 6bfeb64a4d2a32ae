"""Internal: `ZerobusArrowStream` (synchronous): record batches and DataFrames over Arrow Flight.

Every method blocks the calling thread; the logic is `zerobus.sdk.shared.arrow_session`.
pyarrow is imported only once a stream exists, so `import zerobus.sdk.sync` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zerobus.sdk.shared.arrow_stream_base import ArrowStreamBase

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["ZerobusArrowStream"]


class ZerobusArrowStream(ArrowStreamBase):
    """An Arrow Flight stream to one table, made by `ZerobusSdk.create_arrow_stream`.

    `ingest_batch` takes a `pyarrow.RecordBatch` or `Table`, or a DataFrame exporting the Arrow
    PyCapsule interface (polars, pandas), checks it against the stream's schema, cuts it under
    the 10 MiB request limit and returns the offset of its last batch; `flush()` waits until
    everything ingested is durable.
    """

    def ingest_batch(self, batch: object) -> int:
        """Send `batch` (waiting while `max_inflight_batches` are unacknowledged); its offset.

        A batch over the request limit goes out as several consecutive batches (offsets), and
        the offset returned is the last one: waiting for it confirms them all.
        """
        return self._send_batch(batch)

    def wait_for_offset(self, offset: int) -> None:
        """Block until the batch at `offset` (and every one before it) is acknowledged."""
        self._session.wait_for_offset(offset)

    def flush(self) -> None:
        """Block until every batch ingested so far is acknowledged (`flush_timeout_ms`)."""
        self._session.flush()

    def close(self) -> None:
        """Flush, then end the call. Idempotent; raises the stream's error if it failed."""
        self._session.close()

    def get_unacked_batches(self) -> list[pa.RecordBatch]:
        """Every batch the server has not acknowledged, in order (for a new stream to resend)."""
        return self._session.unacked()
