"""The one deadline-bounded poll of the tests, for state that has no event to wait on.

Prefer an event where the code offers one (`wait_for_offset`, `flush`, a callback); poll only
what changes in another thread or process without telling anyone (server counters, files).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]

POLL_INTERVAL_S = 0.01


def wait_until(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    """True once `condition()` holds; False if it still does not after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True
