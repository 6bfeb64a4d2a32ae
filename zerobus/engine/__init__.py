"""Internal: The I/O-free stream engine shared by the sync and asyncio drivers (see `core`); internal to the SDK."""

from zerobus.engine.ack_ledger import Acked, AckLedger
from zerobus.engine.config import EngineConfig
from zerobus.engine.core import StreamCore
from zerobus.engine.effects import Effects, StreamTimeoutError
from zerobus.engine.lifecycle import CallLifecycle, Expired
from zerobus.engine.recovery import RecoveryDecision, RecoveryPolicy
from zerobus.engine.requests import create_stream_request, records_request
from zerobus.engine.state import ALLOWED_TRANSITIONS, TERMINAL_STATES, StreamState, check_transition
from zerobus.engine.submissions import Batch, Submission, Submissions
from zerobus.engine.waiters import Waiter, WaiterQueue
from zerobus.protocol.constants import MAX_REQUEST_BYTES

__all__ = [
    "ALLOWED_TRANSITIONS",
    "MAX_REQUEST_BYTES",
    "TERMINAL_STATES",
    "AckLedger",
    "Acked",
    "Batch",
    "CallLifecycle",
    "Effects",
    "EngineConfig",
    "Expired",
    "RecoveryDecision",
    "RecoveryPolicy",
    "StreamCore",
    "StreamState",
    "StreamTimeoutError",
    "Submission",
    "Submissions",
    "Waiter",
    "WaiterQueue",
    "check_transition",
    "create_stream_request",
    "records_request",
]
