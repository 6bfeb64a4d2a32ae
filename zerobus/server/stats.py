"""Internal: Counters the server keeps for tests and the CLI (cheap: plain int increments on the hot path)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ServerStats"]


@dataclass
class ServerStats:
    """Running totals since the server started. Read them directly; they only grow.

    - `stream_calls`: EphemeralStream calls that arrived.
    - `create_stream_requests`: `create_stream` messages received (one per call that got that far).
    - `streams_created`: streams that were accepted (a `create_stream_response` was sent).
    - `streams_rejected`: creations refused (auth, grants, table, descriptor, injected faults).
    - `requests_received`: ingest requests (single or batch) received.
    - `records_received` / `records_stored`: records received / appended to the durable log.
    - `bytes_received`: bytes of the ingest requests received (gRPC and Flight messages).
    - `requests_rejected`: ingest requests that ended their call with an error.
    - `acks_sent`: ack messages sent (acks are cumulative and coalesced, so fewer than requests).
    - `close_signals_sent`: CloseStreamSignal messages sent.
    - `acks_paced`: times a stream rate limit held a due acknowledgement back.
    - `rows_materialized`: rows committed into Delta tables.
    - `https_handshakes_failed`: HTTPS connections whose TLS handshake failed (typically a client
      that does not trust the server's CA).
    - `quarantined_frames`: per table (full name), log frames the materializer could not write
      and quarantined since the start (their rows are not in Delta; see `LocalZerobusServer`).
    - `unavailable_tables`: tables that could not be opened at start (full name -> why); every
      other table is served.
    """

    stream_calls: int = 0
    create_stream_requests: int = 0
    streams_created: int = 0
    streams_rejected: int = 0
    requests_received: int = 0
    records_received: int = 0
    records_stored: int = 0
    bytes_received: int = 0
    requests_rejected: int = 0
    acks_sent: int = 0
    close_signals_sent: int = 0
    acks_paced: int = 0
    rows_materialized: int = 0
    https_handshakes_failed: int = 0
    quarantined_frames: dict[str, int] = field(default_factory=dict)
    unavailable_tables: dict[str, str] = field(default_factory=dict)
