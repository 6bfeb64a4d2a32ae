"""Internal: What an Arrow Flight stream reports about itself: the record streams' stats, plus batches.

An Arrow stream's `stats()` is a `StreamStats` (so `sdk.stats()`, pools and OpenTelemetry sum it
with the record streams' unchanged) in which a record is a row, a request is a batch and sizes
are Arrow buffer bytes (`RecordBatch.nbytes`); the batch counts are added alongside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zerobus.engine.arrow_ledger import ArrowLedger
from zerobus.engine.state import StreamState
from zerobus.engine.stats import StreamStats, percentile

__all__ = ["ArrowStreamStats", "arrow_snapshot"]


@dataclass(frozen=True)
class ArrowStreamStats(StreamStats):
    """A snapshot of one Arrow stream (`arrow_stream.stats()`); counts since it was created.

    Inherited fields count rows as records, batches put on the wire as requests (resends
    included) and Arrow buffer bytes as sizes. `queued_*` are batches waiting to be resent on a
    new call (while recovering, or kept after a failure); `in_flight_*` are on the current call.
    """

    #: Batches accepted by `ingest_batch` (a batch over the request limit counts once per piece).
    ingested_batches: int = 0
    #: Batches waiting to be resent (recovering or failed).
    queued_batches: int = 0
    #: Batches sent on the current call and not yet acknowledged.
    in_flight_batches: int = 0
    #: Batches the server acknowledged as durable.
    acknowledged_batches: int = 0


def arrow_snapshot(
    table_name: str,
    state: StreamState,
    ledger: ArrowLedger[Any],
    recoveries: int,
    last_error: str | None,
    last_error_at: float | None,
) -> ArrowStreamStats:
    """An `ArrowStreamStats` from the ledger and the stream's state (the caller holds its lock)."""
    samples = ledger.latencies.samples()
    waiting = state in (StreamState.RECOVERING, StreamState.FAILED)
    pending_batches, pending_rows = ledger.inflight, ledger.inflight_rows
    return ArrowStreamStats(
        table_name=table_name,
        stream_id=None,  # Flight calls carry no server stream id
        state=state,
        ingested_records=ledger.ingested_rows,
        queued_records=pending_rows if waiting else 0,
        in_flight_records=0 if waiting else pending_rows,
        acknowledged_records=ledger.acked_rows,
        sent_requests=ledger.sent_batches,
        sent_bytes=ledger.sent_bytes,
        acknowledged_bytes=ledger.acked_bytes,
        recoveries=recoveries,
        last_error=last_error,
        ack_latency_p50_s=percentile(samples, 0.5),
        ack_latency_p99_s=percentile(samples, 0.99),
        _latency_samples=samples,
        _last_error_at=last_error_at,
        ingested_batches=ledger.next_offset,
        queued_batches=pending_batches if waiting else 0,
        in_flight_batches=0 if waiting else pending_batches,
        acknowledged_batches=ledger.acked_batches,
    )
