"""Internal: What one stream call (EphemeralStream or Flight DoPut) knows, and how it ends.

A call is split by job: `stream_call` (setup and run), `stream_requests` (the request loop),
`stream_acks` (acks, close signals, the final status). They share the state kept here and
the ways to end a call: a refused setup (`_reject`), a bad request (`_fail`: nothing of it
stored, the call ends once earlier requests are durable), or at once (`end_now`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import TYPE_CHECKING, Any, NoReturn

import grpc
from grpclib.const import Status
from grpclib.exceptions import GRPCError

from zerobus.protocol.constants import ERROR_INVALID_RECORD, ERROR_STREAM_LIFETIME, error_code_text
from zerobus.server.decisions import Refusal, RefusalKind
from zerobus.server.faults import CallEnding
from zerobus.server.rate_limit import paced_acks
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.tables import TableRuntime

if TYPE_CHECKING:
    from zerobus.server.frontends.stream_registry import StreamRegistry

__all__ = [
    "INVALID_RECORD_ERROR",
    "LIFETIME_ERROR",
    "SHUTDOWN_ERROR",
    "CallEnded",
    "StreamCallState",
    "grpc_status",
    "status_text",
]

SHUTDOWN_ERROR = "the local Zerobus server is shutting down"
LIFETIME_ERROR = (
    f"{error_code_text(ERROR_STREAM_LIFETIME)}: stream lifetime reached; the server closed the stream, "
    "recover on a new one"
)
INVALID_RECORD_ERROR = error_code_text(ERROR_INVALID_RECORD)

# How each kind of refusal of the decision core (`zerobus.server.decisions`) reads on gRPC.
_REFUSAL_STATUS = {
    RefusalKind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    RefusalKind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    RefusalKind.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    RefusalKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    RefusalKind.UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
}


def grpc_status(code: grpc.StatusCode) -> Status:
    """grpcio's status code as grpclib's."""
    return Status(code.value[0])


def status_text(message: str) -> str:
    """The message as a status can carry it: UTF-8, so a lone surrogate (say, in a field name a
    client sent) is spelled as an escape instead of failing the status itself."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


class CallEnded(Exception):
    """Raised inside the reader to stop it; the sender sends the status."""


class StreamCallState:
    """The state of one call from its first message to its final status (event loop thread only)."""

    _ids = itertools.count(1)

    def __init__(self, stream: Any, core: ServerCore, registry: StreamRegistry) -> None:
        self.id = next(self._ids)
        self.stream = stream
        self.core = core
        self.registry = registry
        self.loop = registry.loop
        self.table: TableRuntime | None = None
        self.accepted = False
        self._event = asyncio.Event()
        self._pending: deque[tuple[int, int]] = deque()  # (log seq, offset_id) not yet durable
        self._ready: deque[tuple[float, int]] = deque()  # (ack due time, offset_id) durable
        self._acked = -1
        self._expected_offset = 0
        self._received = 0
        self._last_seq = -1
        self._client_done = False
        self._end_after_seq: int | None = None  # end once this seq is durable...
        self._end_with: CallEnding | None = None  # ...with this status
        self._end_now: CallEnding | None = None
        self._close_signals: list[bytes] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._ack_timer: asyncio.TimerHandle | None = None
        self._write_failures_seen = 0  # the table log's `write_failures` already looked at
        self._failed_seq: int | None = None  # the first of our seqs the log failed to write...
        self._failed_ending: CallEnding | None = None  # ...and how the call ends because of it
        self._pacer = paced_acks(core.config.stream_rate_limit, self.loop.time)
        self._pace_timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        self._event.set()

    def _accept(self, table: TableRuntime) -> None:
        """The call writes to `table` from now on."""
        self.table = table
        self._write_failures_seen = table.log.write_failures
        self.accepted = True
        self.core.stats.streams_created += 1

    def _reject(self, code: grpc.StatusCode, message: str) -> GRPCError:
        self.core.stats.streams_rejected += 1
        return GRPCError(grpc_status(code), status_text(message))

    def _refuse(self, refusal: Refusal) -> GRPCError:
        """The decision core's refusal as this wire's status."""
        return self._reject(_REFUSAL_STATUS[refusal.kind], refusal.message)

    def _fail(self, code: grpc.StatusCode, message: str) -> NoReturn:
        """A bad request: nothing of it is stored; the call ends once earlier requests are durable."""
        self.core.stats.requests_rejected += 1
        self._stop_after(self._last_seq, CallEnding(code, message, store=False))

    def _stop_after(self, seq: int, ending: CallEnding) -> NoReturn:
        self._end_after_seq = seq
        self._end_with = ending
        self.wake()
        raise CallEnded

    def _end_immediately(self, ending: CallEnding) -> None:
        self._end_now = ending
        self.wake()

    def end_now(self, ending: CallEnding) -> None:
        """End the call at once with `ending` (loop thread)."""
        self._end_immediately(ending)
