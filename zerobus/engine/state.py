"""Internal: Stream states and the transitions allowed between them.

The public states are those of the official SDK (same names and values). FLUSHING is not a phase
of its own: a stream is FLUSHING while it is OPENED and a flush or close is waiting, so a flush
that meets a recovery shows RECOVERING and comes back to FLUSHING once the stream is reopened.

Phases and transitions (everything else is a bug and raises)::

    UNINITIALIZED -> OPENED        the first create_stream answered
    UNINITIALIZED -> FAILED        creation failed for good (non-retryable, or retries exhausted)
    UNINITIALIZED -> CLOSED        closed before it ever opened
    OPENED        -> RECOVERING    the call broke, timed out, or the server asked to rotate
    OPENED        -> CLOSED        close() found everything acknowledged
    OPENED        -> FAILED        non-retryable error, recovery disabled, or close() timed out
    RECOVERING    -> OPENED        a new call answered create_stream (unacked requests resent)
    RECOVERING    -> FAILED        retries or their total budget exhausted, or non-retryable error
    RECOVERING    -> CLOSED        close() while reconnecting with nothing left unacknowledged
    CLOSED, FAILED                 terminal
"""

from __future__ import annotations

import enum

__all__ = ["ALLOWED_TRANSITIONS", "TERMINAL_STATES", "StreamState", "check_transition"]


class StreamState(enum.Enum):
    """Lifecycle of a stream (values as in the official SDK)."""

    UNINITIALIZED = 0
    OPENED = 1
    FLUSHING = 2
    CLOSED = 3
    RECOVERING = 4
    FAILED = 5


ALLOWED_TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    StreamState.UNINITIALIZED: frozenset({StreamState.OPENED, StreamState.FAILED, StreamState.CLOSED}),
    StreamState.OPENED: frozenset({StreamState.RECOVERING, StreamState.CLOSED, StreamState.FAILED}),
    StreamState.RECOVERING: frozenset({StreamState.OPENED, StreamState.FAILED, StreamState.CLOSED}),
    StreamState.CLOSED: frozenset(),
    StreamState.FAILED: frozenset(),
}

TERMINAL_STATES = frozenset({StreamState.CLOSED, StreamState.FAILED})


def check_transition(current: StreamState, new: StreamState) -> None:
    """Raise if the engine tries a transition the table above does not allow."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise RuntimeError(f"stream state cannot go from {current.name} to {new.name}")
