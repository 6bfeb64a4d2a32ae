"""Internal: Who is waiting for which logical offset: flushes, `wait_for_offset`, ack futures.

The engine keeps waiters ordered by offset and hands back the ones an acknowledgment released
(or every one, on failure); the drivers wake them outside their locks. A waiter is any object
with `resolve(error)`: a threading event in the sync driver, an asyncio future in the aio one.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Protocol

__all__ = ["Waiter", "WaiterQueue"]


class Waiter(Protocol):
    def resolve(self, error: BaseException | None) -> None:
        """Wake the waiter: `None` means the offset is durable, otherwise why it never will be."""


class WaiterQueue:
    """Waiters keyed by the logical offset they wait for, released in offset order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Waiter]] = []
        self._order = itertools.count()
        self._discarded: set[int] = set()

    def __len__(self) -> int:
        return len(self._heap) - len(self._discarded)

    def add(self, offset: int, waiter: Waiter) -> None:
        heapq.heappush(self._heap, (offset, next(self._order), waiter))

    def discard(self, waiter: Waiter) -> None:
        """Forget a waiter that gave up (timed out); it is skipped when its offset comes."""
        for _offset, _order, candidate in self._heap:
            if candidate is waiter:
                self._discarded.add(id(waiter))
                return

    def release_up_to(self, offset: int) -> list[Waiter]:
        """Pop every waiter whose offset is <= `offset` (now durable)."""
        released: list[Waiter] = []
        heap = self._heap
        while heap and heap[0][0] <= offset:
            waiter = heapq.heappop(heap)[2]
            if self._discarded and id(waiter) in self._discarded:
                self._discarded.discard(id(waiter))
                continue
            released.append(waiter)
        return released

    def drain(self) -> list[Waiter]:
        """Pop every waiter (the stream failed or closed)."""
        waiters = [w for _, _, w in sorted(self._heap) if id(w) not in self._discarded]
        self._heap.clear()
        self._discarded.clear()
        return waiters
