"""Internal: The bookkeeping of an Arrow Flight stream, without I/O: offsets, acks, the window, replays.

Both drivers' Arrow streams keep one `ArrowLedger` and only move bytes around it. The rules
(docs/PROTOCOL.md section 9):

- every batch gets a logical offset, 0, 1, 2... for the stream's whole life; on a `DoPut` call
  it is sent with a physical offset counted from 0 on that call;
- acks are cumulative and physical (``ack_up_to_offset = N`` covers the call's batches 0..N);
  an ack of an earlier call (its generation) is ignored;
- at most `max_inflight` batches are unacknowledged at once (`has_room`);
- a new call (`start_call`) resends every unacknowledged batch first, in order, renumbered
  from 0; new batches follow them;
- what was never acknowledged stays available (`unacked`) whatever happened to the calls.

It also keeps the counts a stream reports (`zerobus.engine.arrow_stats`): batches, rows and
bytes sent and acknowledged, and each batch's time from its last sending to the ack covering it.
Times are the caller's clock (`now`), so the ledger stays free of I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from zerobus.engine.stats import AckLatencies

__all__ = ["AckOutOfRange", "ArrowLedger", "PendingBatch"]

Payload = TypeVar("Payload")


class AckOutOfRange(ValueError):
    """The server acknowledged an offset it was never sent: the call cannot be trusted."""


@dataclass(frozen=True)
class PendingBatch(Generic[Payload]):
    """A batch sent (or about to be) and not acknowledged yet."""

    offset: int  # logical: stable across calls
    payload: Payload
    rows: int
    nbytes: int = 0
    sent_at: float = 0.0  # when it was last put on a call (the caller's clock)


class ArrowLedger(Generic[Payload]):
    """Offsets, cumulative acks and replays of one Arrow stream (not thread-safe: the caller locks)."""

    def __init__(self, max_inflight: int) -> None:
        if max_inflight < 1:
            raise ValueError(f"max_inflight must be >= 1, got {max_inflight}")
        self.max_inflight = max_inflight
        self.next_offset = 0
        self.acked_through = -1  # the highest logical offset acknowledged
        self.acked_rows = 0
        self.generation = 0  # the current call; acks of older calls are stale
        self._call_base = 0  # the logical offset sent as physical offset 0 on the current call
        self._pending: deque[PendingBatch[Payload]] = deque()
        self.ingested_rows = 0
        self.ingested_bytes = 0
        self.sent_batches = 0  # resends included
        self.sent_bytes = 0
        self.acked_batches = 0
        self.acked_bytes = 0
        self.latencies = AckLatencies()

    # --- sending ---------------------------------------------------------------------------------

    def has_room(self) -> bool:
        return len(self._pending) < self.max_inflight

    def add(self, payload: Payload, rows: int, nbytes: int = 0, now: float = 0.0) -> tuple[int, int]:
        """Register a batch about to be sent on the current call: (logical, physical) offsets."""
        offset = self.next_offset
        self.next_offset += 1
        self._pending.append(PendingBatch(offset, payload, rows, nbytes, now))
        self.ingested_rows += rows
        self.ingested_bytes += nbytes
        self.sent_batches += 1
        self.sent_bytes += nbytes
        return offset, offset - self._call_base

    def start_call(self, now: float = 0.0) -> tuple[int, list[tuple[int, PendingBatch[Payload]]]]:
        """A new call begins: its generation and the batches to resend first, renumbered from 0."""
        self.generation += 1
        self._call_base = self._pending[0].offset if self._pending else self.next_offset
        self._pending = deque(replace(batch, sent_at=now) for batch in self._pending)
        self.sent_batches += len(self._pending)
        self.sent_bytes += sum(batch.nbytes for batch in self._pending)
        return self.generation, [(batch.offset - self._call_base, batch) for batch in self._pending]

    # --- acknowledgements ------------------------------------------------------------------------

    def on_ack(self, generation: int, physical_up_to: int, now: float = 0.0) -> int:
        """Apply a cumulative ack of call `generation`; returns how many batches it newly covered."""
        if generation != self.generation or physical_up_to < 0:
            return 0  # a stale call's ack, or the ready signal
        logical = self._call_base + physical_up_to
        if logical >= self.next_offset:
            raise AckOutOfRange(
                f"the server acknowledged offset {physical_up_to} of this call, but only offsets up to "
                f"{self.next_offset - 1 - self._call_base} were sent"
            )
        covered = 0
        while self._pending and self._pending[0].offset <= logical:
            batch = self._pending.popleft()
            self.acked_rows += batch.rows
            self.acked_bytes += batch.nbytes
            self.latencies.add(max(0.0, now - batch.sent_at))
            covered += 1
        self.acked_batches += covered
        self.acked_through = max(self.acked_through, logical)
        return covered

    # --- questions -------------------------------------------------------------------------------

    def is_acked(self, offset: int) -> bool:
        return offset <= self.acked_through

    @property
    def inflight(self) -> int:
        return len(self._pending)

    @property
    def inflight_rows(self) -> int:
        return sum(batch.rows for batch in self._pending)

    def all_acked(self) -> bool:
        return not self._pending

    def unacked(self) -> list[Payload]:
        """Every batch not acknowledged, in offset order."""
        return [batch.payload for batch in self._pending]
