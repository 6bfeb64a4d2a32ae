"""Internal: Per-stream rate limits of the local server: acknowledgements paced by token buckets.

The service holds each stream to about 15,000 records/s and 100 MB/s. The emulator does the
same by pacing acknowledgements, not by refusing or slowing reads: every request is still read,
checked and stored at once, but its ack goes out only when the stream's buckets allow it. A
client then sees what a client of the rate-limited service sees: its in-flight window fills and
its ingest calls block (backpressure), while nothing is rejected or lost. A request is released
as soon as the buckets are not in debt, and its cost may take them below zero, so requests
larger than a bucket (a 10 MiB batch) still go out, and the long-run rate is the limit.

Time comes from an injected clock (the server's event loop by default) so tests can script it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from zerobus.errors import ConfigurationError

__all__ = [
    "BURST_S",
    "SERVICE_BYTES_PER_S",
    "SERVICE_RECORDS_PER_S",
    "AckPacer",
    "StreamRateLimit",
    "TokenBucket",
    "limit_from_settings",
    "paced_acks",
]

# The service's documented per-stream limits (docs/PROTOCOL.md, service limits).
SERVICE_RECORDS_PER_S = 15_000.0
SERVICE_BYTES_PER_S = 100_000_000.0
# A stream may run this many seconds' worth of its limit ahead (then it is paced).
BURST_S = 0.1

Clock = Callable[[], float]
# Debt shorter than this is rounding in the refill arithmetic, not a reason to wait.
_CLOCK_RESOLUTION_S = 1e-6


@dataclass(frozen=True)
class StreamRateLimit:
    """The limits every stream is held to; None leaves that dimension unlimited.

    `clock` replaces the server's event-loop clock for the buckets (tests script time with it).
    """

    records_per_s: float | None = None
    bytes_per_s: float | None = None
    clock: Clock | None = None

    def __post_init__(self) -> None:
        for name in ("records_per_s", "bytes_per_s"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"stream rate limit {name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ConfigurationError(f"stream rate limit {name} must be > 0 and finite, got {value!r}")
        if self.records_per_s is None and self.bytes_per_s is None:
            raise ConfigurationError("a stream rate limit needs records_per_s, bytes_per_s or both")

    @classmethod
    def service(cls, clock: Clock | None = None) -> StreamRateLimit:
        """The real service's limits: 15,000 records/s and 100 MB/s per stream."""
        return cls(SERVICE_RECORDS_PER_S, SERVICE_BYTES_PER_S, clock)


class TokenBucket:
    """Tokens accrue at `rate` per second up to `capacity`; a take may leave the balance negative."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self._updated = now

    def _refill(self, now: float) -> None:
        if now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
            self._updated = now

    def wait(self, now: float) -> float:
        """Seconds from `now` until the balance is back to zero (0 when it is not in debt)."""
        self._refill(now)
        wait = -self.tokens / self.rate
        return wait if wait > _CLOCK_RESOLUTION_S else 0.0

    def take(self, amount: float) -> None:
        self.tokens -= amount


class AckPacer:
    """Decides, for one call, up to which request its acknowledgements may go out now.

    The call reports each stored request (`add`) and each request that is durable and due
    (`make_eligible`); `release()` then says how far the cumulative ack may move and, if the
    buckets held some requests back, how long until it is worth asking again.
    """

    def __init__(self, limit: StreamRateLimit, clock: Clock) -> None:
        self._clock = clock
        now = clock()
        self._buckets: list[tuple[TokenBucket, int]] = []  # (bucket, index of its cost in an entry)
        if limit.records_per_s is not None:
            rate = limit.records_per_s
            self._buckets.append((TokenBucket(rate, max(1.0, rate * BURST_S), now), 1))
        if limit.bytes_per_s is not None:
            rate = limit.bytes_per_s
            self._buckets.append((TokenBucket(rate, max(1.0, rate * BURST_S), now), 2))
        self._stored: deque[tuple[int, int, int]] = deque()  # (offset, records, bytes), unreleased
        self._eligible = -1
        # Accounting, for tests and diagnostics.
        self.released_records = 0
        self.released_bytes = 0
        self.times_held = 0  # release() calls that had to hold an eligible request back

    def add(self, offset: int, records: int, nbytes: int) -> None:
        """Request `offset` (`records` records, `nbytes` bytes on the wire) was stored."""
        self._stored.append((offset, records, nbytes))

    def make_eligible(self, offset: int) -> None:
        """Every request up to `offset` is durable and due: only the limit holds it now."""
        self._eligible = max(self._eligible, offset)

    @property
    def holding(self) -> bool:
        """Whether an eligible request still waits for the buckets."""
        return bool(self._stored) and self._stored[0][0] <= self._eligible

    def release(self) -> tuple[int, float | None]:
        """(the highest offset that may be acknowledged now or -1, seconds until asking again or None)."""
        now = self._clock()
        stored, eligible = self._stored, self._eligible
        released = -1
        while stored and stored[0][0] <= eligible:
            wait = max(bucket.wait(now) for bucket, _ in self._buckets)
            if wait > 0:
                self.times_held += 1
                return released, wait
            entry = stored.popleft()
            for bucket, index in self._buckets:
                bucket.take(entry[index])
            self.released_records += entry[1]
            self.released_bytes += entry[2]
            released = entry[0]
        return released, None


def paced_acks(limit: StreamRateLimit | None, server_clock: Clock) -> AckPacer | None:
    """The pacer of a new call under `limit` (None: no limit, acks go out as soon as they are due)."""
    if limit is None:
        return None
    return AckPacer(limit, limit.clock or server_clock)


def limit_from_settings(
    records_per_s: float | None = None,
    bytes_per_s: float | None = None,
    service_limits: bool = False,
    clock: Clock | None = None,
) -> StreamRateLimit | None:
    """The limit the server's options ask for: explicit values win over `service_limits`' defaults."""
    for name, value in (("stream_rate_limit", records_per_s), ("stream_byte_rate_limit", bytes_per_s)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and value > 0)
        ):
            raise ConfigurationError(f"{name} must be a number > 0 (per second) or None, got {value!r}")
    if service_limits:
        records_per_s = SERVICE_RECORDS_PER_S if records_per_s is None else records_per_s
        bytes_per_s = SERVICE_BYTES_PER_S if bytes_per_s is None else bytes_per_s
    if records_per_s is None and bytes_per_s is None:
        return None
    return StreamRateLimit(records_per_s, bytes_per_s, clock)
