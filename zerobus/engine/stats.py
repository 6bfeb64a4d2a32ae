"""Internal: What a stream reports about itself: counters, ack latency, structured log fields.

The engine keeps plain integers it already needs (offsets, acknowledged records, records per
request) plus a few more updated once per request or per ack message, never per record. A
`StreamStats` is a snapshot taken on demand from them; percentiles are computed only then.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zerobus.engine.state import StreamState

if TYPE_CHECKING:
    from zerobus.engine.ack_ledger import AckLedger
    from zerobus.engine.status import StreamStatus
    from zerobus.engine.submissions import Submissions

__all__ = [
    "ACK_LATENCY_WINDOW",
    "AckLatencies",
    "StreamStats",
    "percentile",
    "snapshot",
    "stream_log_fields",
]

# Latency percentiles describe the most recent requests: an old slow spell should not mask
# today's behaviour, and a bounded window keeps memory and the on-demand sort small.
ACK_LATENCY_WINDOW = 1024


class AckLatencies:
    """Seconds from sending each request to the ack that covered it, for the latest requests."""

    __slots__ = ("_samples",)

    def __init__(self, size: int = ACK_LATENCY_WINDOW) -> None:
        self._samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self._samples.append(seconds)

    def samples(self) -> tuple[float, ...]:
        """A copy of the window, safe to take from another thread than the one adding samples."""
        while True:
            try:
                return tuple(self._samples)
            except RuntimeError:  # an asyncio stream's loop added a sample during the copy
                continue


def percentile(samples: Iterable[float], fraction: float) -> float | None:
    """The nearest-rank percentile (`fraction` in (0, 1]) of `samples`, or None when there are none."""
    ordered = sorted(samples)
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class StreamStats:
    """A snapshot of one stream (`stream.stats()`): every count is since the stream was created.

    Records are counted one per record, also inside a batch submission. Sizes are in the units
    the engine batches by: bytes of encoded protobuf for PROTO streams, characters of JSON text
    for JSON streams (the same as bytes for ASCII text).
    """

    #: The table the stream writes to.
    table_name: str
    #: The server's id of the current call (None before the first call opened).
    stream_id: str | None
    #: The stream's state when the snapshot was taken.
    state: StreamState
    #: Records accepted by ingest calls.
    ingested_records: int
    #: Records not on the wire: never sent yet, or waiting to be resent after a recovery. After a
    #: failure these are (with the in-flight ones) what `get_unacked_records()` returns.
    queued_records: int
    #: Records sent on the current call and not yet acknowledged.
    in_flight_records: int
    #: Records the server acknowledged as durable.
    acknowledged_records: int
    #: Requests put on the wire, resends after a recovery included.
    sent_requests: int
    #: Size of the records put on the wire, resends included.
    sent_bytes: int
    #: Size of the acknowledged records (each counted once).
    acknowledged_bytes: int
    #: Server calls opened after the first one: after an error, a lack of acks, or the server's
    #: close signal. Records are never lost by a recovery; they are resent.
    recoveries: int
    #: The message of the most recent error the stream met (recovered from or not), or None.
    last_error: str | None
    #: Median seconds from sending a request to its acknowledgment, over the latest
    #: `ACK_LATENCY_WINDOW` acknowledged requests (None before the first ack).
    ack_latency_p50_s: float | None
    #: The 99th percentile of the same window.
    ack_latency_p99_s: float | None
    # For aggregation over streams (`SdkStats`): the raw latency window and when the last error
    # happened on the engine's clock. Not part of the snapshot's meaning.
    _latency_samples: tuple[float, ...] = field(default=(), repr=False, compare=False)
    _last_error_at: float | None = field(default=None, repr=False, compare=False)


def stream_log_fields(
    table_name: str, stream_id: str | None, offset: int, durable_offset: int
) -> dict[str, Any]:
    """`extra=` for log records about a stream: handlers and formatters can read these fields.

    `zerobus_offset` is the last logical offset handed out, `zerobus_durable_offset` the last
    acknowledged one (-1: none yet).
    """
    return {
        "zerobus_table": table_name,
        "zerobus_stream_id": stream_id,
        "zerobus_offset": offset,
        "zerobus_durable_offset": durable_offset,
    }


def snapshot(
    table_name: str, status: StreamStatus, submissions: Submissions, ledger: AckLedger
) -> StreamStats:
    """A `StreamStats` from the engine's parts, taken now."""
    samples = ledger.latencies.samples()
    error = status.failure or status.last_error
    return StreamStats(
        table_name=table_name,
        stream_id=status.stream_id,
        state=status.state,
        ingested_records=submissions.ingested_records,
        queued_records=submissions.queued_records + ledger.resend_records,
        in_flight_records=ledger.inflight_records,
        acknowledged_records=submissions.acked_records,
        sent_requests=ledger.sent_requests,
        sent_bytes=ledger.sent_bytes,
        acknowledged_bytes=ledger.acked_bytes,
        recoveries=status.recoveries,
        last_error=None if error is None else error.message,
        ack_latency_p50_s=percentile(samples, 0.5),
        ack_latency_p99_s=percentile(samples, 0.99),
        _latency_samples=samples,
        _last_error_at=status.last_error_at,
    )
