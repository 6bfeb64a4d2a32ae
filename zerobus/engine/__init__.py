"""The I/O-free stream engine shared by the sync and asyncio drivers (see `core`)."""

from zerobus.engine.core import (
    MAX_REQUEST_BYTES,
    Effects,
    EngineConfig,
    StreamCore,
    StreamTimeoutError,
    Submission,
)
from zerobus.engine.recovery import RecoveryDecision, RecoveryPolicy
from zerobus.engine.requests import create_stream_request, records_request
from zerobus.engine.state import ALLOWED_TRANSITIONS, TERMINAL_STATES, StreamState, check_transition
from zerobus.engine.waiters import Waiter, WaiterQueue

__all__ = [
    "ALLOWED_TRANSITIONS",
    "MAX_REQUEST_BYTES",
    "TERMINAL_STATES",
    "Effects",
    "EngineConfig",
    "RecoveryDecision",
    "RecoveryPolicy",
    "StreamCore",
    "StreamState",
    "StreamTimeoutError",
    "Submission",
    "Waiter",
    "WaiterQueue",
    "check_transition",
    "create_stream_request",
    "records_request",
]
