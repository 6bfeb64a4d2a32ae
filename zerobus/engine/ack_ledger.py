"""Internal: Requests on the wire: wire sequencing, and cumulative acknowledgments mapped back to offsets.

Wire offsets count 0, 1, 2... per physical call, one per request. A cumulative ack for wire
offset N makes every request up to N durable; the ledger turns that into the last durable
logical offset. When a call ends, whatever it left unacknowledged waits to be resent, in
order, before new data, renumbered from 0 on the next call. Counters for `stats()` are kept
here per request and per ack message, never per record.
"""

from __future__ import annotations

from collections import deque

from zerobus.engine.stats import AckLatencies
from zerobus.engine.submissions import Batch, Entry, Submissions

__all__ = ["AckLedger", "Acked"]


class Acked:
    """What one ack message made durable: logical offsets `first`..`last`, `records` records."""

    __slots__ = ("first", "last", "records")

    def __init__(self, first: int, last: int, records: int) -> None:
        self.first, self.last, self.records = first, last, records


class AckLedger:
    """Requests sent on the current call, and those an earlier call left unacknowledged."""

    def __init__(self) -> None:
        # Sent on an earlier call, unacknowledged: go out again first.
        self._resend: deque[Batch] = deque()
        # Sent on the current call: wire offsets _first_wire, +1, ...
        self._inflight: deque[Batch] = deque()
        self._first_wire = 0
        self._next_wire = 0
        self.durable_offset = -1
        self.resend_records = 0
        self.inflight_records = 0
        self.sent_requests = 0
        self.sent_bytes = 0
        self.acked_bytes = 0
        self.latencies = AckLatencies()

    @property
    def in_flight(self) -> bool:
        """Whether anything sent on the current call is unacknowledged."""
        return bool(self._inflight)

    @property
    def has_resend(self) -> bool:
        return bool(self._resend)

    @property
    def last_sent_wire(self) -> int:
        return self._next_wire - 1

    def new_call(self) -> None:
        """A new call numbers its requests from 0."""
        self._next_wire = 0

    def next_batch(self, submissions: Submissions) -> Batch | None:
        """What goes out next: a request waiting for resend, else a new batch from the queue."""
        if self._resend:
            batch = self._resend.popleft()
            self.resend_records -= batch.count
            return batch
        return submissions.take_batch()

    def sent(self, batch: Batch, now: float) -> tuple[int, bool]:
        """`batch` goes out now: its wire offset, and whether it is the only request in flight."""
        wire = self._next_wire
        self._next_wire = wire + 1
        first = not self._inflight
        if first:
            self._first_wire = wire
        batch.sent_at = now
        self._inflight.append(batch)
        self.inflight_records += batch.count
        self.sent_requests += 1
        self.sent_bytes += batch.nbytes
        return wire, first

    def requests_covered(self, wire_offset: int) -> int:
        """How many in-flight requests a cumulative ack for `wire_offset` covers (may exceed those sent)."""
        return wire_offset - self._first_wire + 1 if self._inflight else 0

    def acknowledge(self, requests: int, now: float) -> Acked:
        """The oldest `requests` in-flight requests (1 <= requests <= in flight) are durable."""
        inflight = self._inflight
        latencies = self.latencies
        records = nbytes = 0
        batch = inflight[0]
        for _ in range(requests):
            batch = inflight.popleft()
            records += batch.count
            nbytes += batch.nbytes
            latencies.add(now - batch.sent_at)
        self._first_wire += requests
        first = self.durable_offset + 1
        self.durable_offset = batch.last_offset
        self.inflight_records -= records
        self.acked_bytes += nbytes
        return Acked(first, batch.last_offset, records)

    @property
    def requests_in_flight(self) -> int:
        return len(self._inflight)

    def call_ended(self) -> None:
        """The call is over: its unacknowledged requests go out again first on the next one."""
        if self._inflight:
            self._resend.extendleft(reversed(self._inflight))
            self._inflight.clear()
            self.resend_records += self.inflight_records
            self.inflight_records = 0

    def unacked_entries(self) -> list[Entry]:
        """Submissions sent and unacknowledged, oldest first: in flight (resent first on a new
        call, so older than any still waiting for resend), then waiting for resend."""
        entries: list[Entry] = []
        for batch in self._inflight:
            entries.extend(batch.entries)
        for batch in self._resend:
            entries.extend(batch.entries)
        return entries
