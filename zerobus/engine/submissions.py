"""Internal: Records not yet sent: the submission queue, logical offsets, the in-flight window, batching.

- Logical offsets: one per ingest submission (a record, or a list of records sent with the
  batch API), increasing for the life of the stream, across recoveries.
- The in-flight window: records submitted and not yet acknowledged (`unacked_count`), bounded
  by `max_inflight_records` at the ingest call. The per-record path compares two integers:
  `next_offset >= window_end` means a one-record submission must wait (or, once the stream
  stops accepting records, be refused: `window_end` is then -1). A stream pool reads the same
  two integers to route records (`zerobus.sdk.shared.pool_core.StreamGauge`).
- Adaptive batching: whatever is queued when the sender is ready goes out as one request
  (bounded by `max_batch_records` and `max_batch_bytes`, never above the service's 10 MiB), a
  lone record as `ingest_record`. Submissions are never split.
- The compiled per-record path (`compile_ingest_one`). It lives here, with the queue it
  writes, because it is the one piece of code every record runs: it reads and writes this
  object's attributes directly instead of calling its methods.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from itertools import accumulate, islice
from typing import Any, Protocol

from zerobus.engine.config import EngineConfig
from zerobus.errors import NonRetriableException
from zerobus.protocol.constants import MAX_REQUEST_BYTES
from zerobus.protocol.messages import RecordTypeValue

__all__ = ["Batch", "DirectEncoder", "Mutex", "Submission", "Submissions"]

Payload = bytes | str

# Room left under the limit for the request's own framing (tags and lengths of each record).
_FRAMING_ALLOWANCE = 64 * 1024


class Submission(list[Payload]):
    """Several records ingested with one call: one logical offset, always sent in one request."""

    __slots__ = ("nbytes",)

    def __init__(self, records: Iterable[Payload], nbytes: int) -> None:
        super().__init__(records)
        self.nbytes = nbytes


# A queue entry: a one-record submission is its payload, kept unwrapped (no object per record).
Entry = Payload | Submission


class Batch:
    """One request's worth of consecutive submissions: entries, flat records, offsets, size.

    `nbytes` is its size in len() units, `sent_at` when it last went out (engine clock).
    """

    __slots__ = ("count", "entries", "first_offset", "nbytes", "records", "sent_at")

    def __init__(
        self, entries: list[Entry], records: list[Payload], first_offset: int, count: int, nbytes: int
    ) -> None:
        self.entries = entries
        self.records = records
        self.first_offset = first_offset
        self.count = count
        self.nbytes = nbytes
        self.sent_at = 0.0

    @property
    def last_offset(self) -> int:
        return self.first_offset + len(self.entries) - 1


class DirectEncoder(Protocol):
    """What `compile_ingest_one` needs of a record encoder (`zerobus.encoders.RecordEncoder`).

    `direct_class` instances are encoded by `direct_encode` (for a PROTO stream: the record
    message class and its unbound `SerializeToString`); everything else by `encode`.
    """

    encode: Callable[[Any], Payload]
    direct_class: type | None
    direct_encode: Callable[[Any], Payload] | None


class Mutex(Protocol):
    """A `threading.Lock`, as the per-record path uses it."""

    def acquire(self) -> bool: ...

    def release(self) -> None: ...


class _NoDirectClass:
    """Stands in for `direct_class` when the encoder has none: no record is of this type."""


def _not_queued(payload: Payload) -> int:
    return -1


def _not_locked() -> None:
    """Stands in for acquire/release when there is no lock (never called)."""


def flatten(entries: Iterable[Entry]) -> list[Payload]:
    """The records of `entries`, in order (a Submission contributes each of its records)."""
    flat: list[Payload] = []
    for entry in entries:
        if type(entry) is Submission:
            flat.extend(entry)
        else:
            flat.append(entry)  # type: ignore[arg-type]
    return flat


class Submissions:
    """The queue of encoded submissions, the offsets handed out, and the in-flight window."""

    def __init__(self, config: EngineConfig) -> None:
        self.max_inflight = config.max_inflight_records
        # At least 4 requests fit the in-flight window, so acks keep the pipeline moving.
        self._max_batch_records = max(1, min(config.max_batch_records, config.max_inflight_records // 4))
        self._max_batch_bytes = min(config.max_batch_bytes, MAX_REQUEST_BYTES - _FRAMING_ALLOWANCE)
        self.json = config.record_type == RecordTypeValue.JSON
        # Submissions above this many len() units are measured exactly against the 10 MiB limit.
        self.large = (MAX_REQUEST_BYTES // 4 if self.json else MAX_REQUEST_BYTES) - _FRAMING_ALLOWANCE
        # The next logical offset to hand out. Records beyond one per submission (from batches)
        # and records acknowledged give, with it, the unacknowledged count without per-record
        # bookkeeping.
        self.next_offset = 0
        self._extra_records = 0
        self._acked_records = 0
        # A one-record submission fits the window while next_offset < window_end.
        self.window_end = self.max_inflight
        self.accepting = True
        # True while the driver's sender sleeps for lack of work: whoever queues work clears it
        # and wakes the sender.
        self.sender_idle = False
        self._queue: list[Entry] = []
        self._queue_first = 0  # logical offset of _queue[0]
        self._queue_extra = 0  # records beyond one per entry (from Submissions)
        self._queue_multi = 0  # Submissions in the queue

    # --- counts -----------------------------------------------------------------------------------

    @property
    def last_offset(self) -> int:
        """The last logical offset handed out (-1 before the first submission)."""
        return self.next_offset - 1

    @property
    def ingested_records(self) -> int:
        return self.next_offset + self._extra_records

    @property
    def acked_records(self) -> int:
        """Records acknowledged so far: a stream pool measures each stream's ack rate with it."""
        return self._acked_records

    @property
    def unacked_count(self) -> int:
        """Records submitted and not yet acknowledged (queued, waiting for resend, in flight)."""
        return self.next_offset + self._extra_records - self._acked_records

    @property
    def queued_records(self) -> int:
        """Records never sent yet."""
        return len(self._queue) + self._queue_extra

    def entries(self) -> list[Entry]:
        """The queued submissions, oldest first (a copy)."""
        return list(self._queue)

    # --- the window -------------------------------------------------------------------------------

    def has_space(self, records: int) -> bool:
        """Whether `records` more fit in the in-flight window (an empty window takes anything)."""
        unacked = self.unacked_count
        return unacked == 0 or unacked + records <= self.max_inflight

    def acknowledged(self, records: int) -> None:
        """`records` more are durable: the window moves on."""
        self._acked_records += records
        self._move_window()

    def stop_accepting(self) -> None:
        self.accepting = False
        self.window_end = -1  # every one-record submission leaves the per-record path

    def _move_window(self) -> None:
        if self.accepting:
            self.window_end = self.max_inflight + self._acked_records - self._extra_records

    # --- the sender's sleep -----------------------------------------------------------------------

    def sender_sleeps(self) -> None:
        """The driver's sender is about to sleep for lack of work."""
        self.sender_idle = True

    def sender_woke(self) -> None:
        self.sender_idle = False

    def claim_idle_sender(self) -> bool:
        """True, and the flag cleared, if the sender sleeps for lack of work: the caller wakes it."""
        if self.sender_idle:
            self.sender_idle = False
            return True
        return False

    # --- queueing ---------------------------------------------------------------------------------

    def add(self, payload: Payload) -> int:
        """Queue one encoded record (the caller checked `accepting`); returns its logical offset."""
        if len(payload) > self.large:
            self._check_size([payload], len(payload))
        self._queue.append(payload)
        offset = self.next_offset
        self.next_offset = offset + 1
        return offset

    def add_many(self, payloads: list[Payload], nbytes: int) -> int:
        """Queue several encoded records as one submission (one logical offset, one request)."""
        if len(payloads) == 1:
            return self.add(payloads[0])
        if nbytes > self.large:
            self._check_size(payloads, nbytes)
        self._queue.append(Submission(payloads, nbytes))
        extra = len(payloads) - 1
        self._queue_extra += extra
        self._queue_multi += 1
        self._extra_records += extra
        self._move_window()
        offset = self.next_offset
        self.next_offset = offset + 1
        return offset

    def _check_size(self, payloads: list[Payload], nbytes: int) -> None:
        """Refuse, before queueing, a submission the service would reject as too large."""
        if self.json:
            # len() counted characters; the wire carries UTF-8.
            nbytes = sum(len(p.encode("utf-8")) if isinstance(p, str) else len(p) for p in payloads)
        records = len(payloads)
        if nbytes + 16 * records > MAX_REQUEST_BYTES - _FRAMING_ALLOWANCE:
            what = "record" if records == 1 else f"batch of {records} records"
            raise NonRetriableException(
                f"{what} is {nbytes} bytes; the service rejects requests above {MAX_REQUEST_BYTES} bytes "
                "(split it into smaller ingest calls)"
            )

    # --- batching ---------------------------------------------------------------------------------

    def take_batch(self) -> Batch | None:
        """The oldest queued submissions that fit one request, removed from the queue (None: empty)."""
        queue = self._queue
        if not queue:
            return None
        first = self._queue_first
        records = len(queue) + self._queue_extra
        if (
            records <= self._max_batch_records
            and (nbytes := self._queued_bytes(queue)) <= self._max_batch_bytes
        ):
            entries = queue
            multi = self._queue_multi
            self._queue = []
            self._queue_extra = self._queue_multi = 0
        else:
            entries, records, multi, nbytes = self._take_prefix(queue)
            del queue[: len(entries)]
            self._queue_extra -= records - len(entries)
            self._queue_multi -= multi
        self._queue_first = first + len(entries)
        flat: list[Payload] = entries if not multi else flatten(entries)  # type: ignore[assignment]
        return Batch(entries, flat, first, records, nbytes)

    def _queued_bytes(self, queue: list[Entry]) -> int:
        """Size of the queue in len() units (summed here, not counted per record on the hot path)."""
        if not self._queue_multi:
            return sum(map(len, queue))
        return sum(e.nbytes if type(e) is Submission else len(e) for e in queue)

    def _take_prefix(self, queue: list[Entry]) -> tuple[list[Entry], int, int, int]:
        """The longest prefix of the queue within the batch bounds (at least one submission):
        its entries, records, Submissions among them and size."""
        if not self._queue_multi:
            # One record per entry: running sizes and a bisection, in C, instead of a Python loop.
            sizes = list(accumulate(map(len, islice(queue, self._max_batch_records))))
            taken = bisect_right(sizes, self._max_batch_bytes) or 1
            return queue[:taken], taken, 0, sizes[taken - 1]
        records = nbytes = multi = taken = 0
        for entry in queue:
            if type(entry) is Submission:
                count, size = len(entry), entry.nbytes
            else:
                count, size = 1, len(entry)
            if taken and (records + count > self._max_batch_records or nbytes + size > self._max_batch_bytes):
                break
            records += count
            nbytes += size
            multi += count > 1
            taken += 1
        return queue[:taken], records, multi, nbytes

    # --- the per-record path ----------------------------------------------------------------------

    def compile_ingest_one(
        self,
        encoder: DirectEncoder,
        lock: Mutex | None,
        wake_sender: Callable[[], object],
        fallback: Callable[[Payload], int] | None = None,
    ) -> Callable[[Any], int]:
        """The per-record ingest path of one stream: encode, queue, hand out the offset.

        Every per-record ingest call runs exactly this, so it is compiled once per stream into
        a closure: no attribute lookups on the driver and no calls beyond the encoder when the
        record can go straight into the queue. A record that cannot go straight in (window
        full, stream no longer accepting, a payload large enough to need the 10 MiB check) is
        encoded already and goes to `fallback(payload)`, the driver's general path, outside
        the lock; without a fallback the closure returns -1 and queues nothing.

        `lock`, the sync driver's, is held around the queue update. The asyncio driver has one
        thread and passes None: one test of a closure variable replaces two calls per record.
        """
        encode = encoder.encode
        direct_class: type = encoder.direct_class or _NoDirectClass
        direct_encode = encoder.direct_encode or encode
        largest = self.large
        give_up = fallback or _not_queued
        locked = lock is not None
        acquire, release = (lock.acquire, lock.release) if lock is not None else (_not_locked, _not_locked)
        queue = self

        # The parameter is named `payload`: the official SDK's keyword for the record.
        def ingest_one(payload: Any) -> int:
            if type(payload) is direct_class:
                try:
                    encoded = direct_encode(payload)
                except Exception:
                    encoded = encode(payload)  # raises the precise error
            else:
                encoded = encode(payload)
            if locked:
                acquire()
            try:
                offset = queue.next_offset
                if offset < queue.window_end and len(encoded) <= largest:
                    queue._queue.append(encoded)
                    queue.next_offset = offset + 1
                    if queue.sender_idle:  # claim_idle_sender(), inline: no call per record
                        queue.sender_idle = False
                        wake_sender()
                    return offset
            finally:
                if locked:
                    release()
            return give_up(encoded)

        return ingest_one
