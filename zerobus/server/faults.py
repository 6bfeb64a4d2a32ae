"""Internal: Fault injection for tests: an explicit, thread-safe Python API (never environment variables).

Every fault is armed by a test and consumed by the server's stream handler, which asks this
object at well-defined points (stream creation, each received request, each ack). Faults:

- `fail_create(code, message, times)`: the next `times` `create_stream` attempts end with that
  status, after the call's response headers were sent (as a real server refusing the stream).
- `end_call_after(records, code, message, times)`: once a call has received `records` records
  (counted from the later of its start and the moment the fault was armed), the server waits
  until those records are durable on disk, then ends the call WITHOUT acknowledging the request
  that crossed the threshold. The records are stored, so a client that resends them creates
  duplicates: that is at-least-once delivery, the client's business. `code=None` ends the call
  as a lost connection would: the handler is cancelled and the client sees the stream reset
  (grpc reports CANCELLED, a retryable code) instead of a status chosen by the server.
- `fail_after(records, code, message, times)`: once a call has received `records` records, the
  next request ends the call with the status; that request is NOT stored, and everything before
  it is acknowledged first. Use a non-retryable code to test terminal failures.
- `withhold_acks()` / `release_acks()`: records keep being stored durably, but no ack is sent
  until released; then one cumulative ack per stream catches up.
- `delay_acks(seconds)`: each ack is sent `seconds` after its records became durable.
- `send_close_signal(duration_ms)`: every open stream gets `CloseStreamSignal(duration)` now and
  its call ends with the retryable "Error code 6002" status after the duration.
- `fail_log_writes(errno, count, short, at)`: the next `count` group writes of any table's log
  fail with `errno` (ENOSPC by default): at ``"write"`` (``short=True`` leaves half the bytes, a
  torn frame), or at ``"fsync"``. The requests of a failed group are never acknowledged: their
  calls end with the retryable UNAVAILABLE after everything before them is acknowledged, and the
  log is cut back to its last good frame before anything else is written.
- `fail_materialization(full_name, seq, reason)`: log frame `seq` of the table cannot be turned
  into Delta rows (a frame that passed the record checks yet cannot be written cannot be made
  for real): the materializer quarantines it and the table goes on.
- `reset()`: disarm everything and release withheld acks. The pytest fixture calls it after
  every test.

Counters (`calls_ended`, `creates_failed`, `log_writes_failed`) say how often faults fired.
"""

from __future__ import annotations

import errno as errno_codes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from zerobus.server.storage.disk_faults import DiskFaults, WriteStage
from zerobus.server.storage.frame_faults import FrameFaults

__all__ = ["CallEnding", "CreateFailure", "FaultInjector"]


@dataclass(frozen=True)
class CreateFailure:
    """How a `create_stream` attempt must end."""

    code: grpc.StatusCode
    message: str


@dataclass(frozen=True)
class CallEnding:
    """How and when a call must end: `store` says whether the triggering request is stored."""

    code: grpc.StatusCode | None
    message: str
    store: bool


@dataclass
class _CallFault:
    records: int
    ending: CallEnding
    times: int
    # Per call: the call's received-record count when it first met this fault.
    baselines: dict[int, int] = field(default_factory=dict)


class FaultInjector:
    """Armed by tests, consumed by the stream handler; see the module docstring for each fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._create_failures: list[CreateFailure] = []
        self._call_faults: list[_CallFault] = []
        self._acks_withheld = False
        self._ack_delay_s = 0.0
        self._listeners: list[Callable[[], None]] = []
        self._close_signal_handler: Callable[[float], int] | None = None
        # Consumed by every table's log right before it writes (see `fail_log_writes`).
        self.disk = DiskFaults()
        # Asked by the materializer for every frame (see `fail_materialization`).
        self.frames = FrameFaults()
        self.calls_ended = 0
        self.creates_failed = 0
        # Read without the lock on the hot path: True while any per-call fault is armed.
        self.call_faults_armed = False

    # --- arming (tests) -----------------------------------------------------------------------

    def fail_create(self, code: grpc.StatusCode, message: str = "injected failure", times: int = 1) -> None:
        """The next `times` create_stream attempts end with `code` and `message`."""
        _check_times(times)
        with self._lock:
            self._create_failures.extend([CreateFailure(code, message)] * times)

    def end_call_after(
        self,
        records: int,
        code: grpc.StatusCode | None = grpc.StatusCode.UNAVAILABLE,
        message: str = "injected: call ended by the server",
        times: int = 1,
    ) -> None:
        """End the next `times` calls once they received `records` records, stored but unacked.

        `code=None` ends the call like a dropped connection (no status chosen by the server).
        """
        self._arm_call_fault(records, CallEnding(code, message, store=True), times)

    def fail_after(
        self,
        records: int,
        code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT,
        message: str = "injected: request rejected",
        times: int = 1,
    ) -> None:
        """After `records` records, reject the next request of a call with `code`; it is not stored."""
        self._arm_call_fault(records, CallEnding(code, message, store=False), times)

    def fail_log_writes(
        self,
        errno: int = errno_codes.ENOSPC,
        count: int = 1,
        short: bool = False,
        at: WriteStage = "write",
    ) -> None:
        """The next `count` log group writes fail with `errno` (see the module docstring)."""
        self.disk.fail_writes(errno, count, short, at)

    def fail_materialization(
        self, full_name: str, seq: int, reason: str = "injected: the frame cannot be materialised"
    ) -> None:
        """Log frame `seq` of the table fails to materialise (until `reset`): it gets quarantined."""
        self.frames.fail(full_name, seq, reason)

    def withhold_acks(self) -> None:
        """Stop acknowledging (records are still stored durably) until `release_acks()`."""
        with self._lock:
            self._acks_withheld = True
        self._notify()

    def release_acks(self) -> None:
        """Resume acknowledging; every stream catches up with one cumulative ack."""
        with self._lock:
            self._acks_withheld = False
        self._notify()

    def delay_acks(self, seconds: float) -> None:
        """Send each ack `seconds` after its records became durable (0 turns the delay off)."""
        if seconds < 0:
            raise ValueError(f"seconds must be >= 0, got {seconds}")
        with self._lock:
            self._ack_delay_s = float(seconds)
        self._notify()

    def send_close_signal(self, duration_ms: int) -> int:
        """Send CloseStreamSignal to every open stream now; end each call after `duration_ms`.

        Returns how many streams were signalled.
        """
        if duration_ms < 0:
            raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
        handler = self._close_signal_handler
        if handler is None:
            return 0
        return handler(duration_ms / 1000.0)

    def reset(self) -> None:
        """Disarm every fault and release withheld acks (counters are kept)."""
        with self._lock:
            self._create_failures.clear()
            self._call_faults.clear()
            self.call_faults_armed = False
            self._acks_withheld = False
            self._ack_delay_s = 0.0
        self.disk.reset()
        self.frames.reset()
        self._notify()

    # --- state read by the server ---------------------------------------------------------------

    @property
    def log_writes_failed(self) -> int:
        """How many log writes an armed disk fault made fail."""
        return self.disk.writes_failed

    @property
    def acks_withheld(self) -> bool:
        return self._acks_withheld

    @property
    def ack_delay_s(self) -> float:
        return self._ack_delay_s

    def take_create_failure(self) -> CreateFailure | None:
        """Consume the next armed create failure, if any."""
        with self._lock:
            if not self._create_failures:
                return None
            self.creates_failed += 1
            return self._create_failures.pop(0)

    def check_records(self, call_id: int, received_before: int, count: int) -> CallEnding | None:
        """Called per request when `call_faults_armed`: does this request end the call?

        `received_before` is the call's record count before this request, `count` the records
        in it. A fault fires for the request that brings the call to its threshold (for
        `fail_after`: the first request after the threshold was reached).
        """
        with self._lock:
            for fault in self._call_faults:
                baseline = fault.baselines.setdefault(call_id, received_before)
                seen = received_before - baseline
                fires = seen + count >= fault.records if fault.ending.store else seen >= fault.records
                if fires:
                    fault.times -= 1
                    fault.baselines.pop(call_id, None)
                    if fault.times <= 0:
                        self._call_faults.remove(fault)
                        self.call_faults_armed = bool(self._call_faults)
                    self.calls_ended += 1
                    return fault.ending
            return None

    def forget_call(self, call_id: int) -> None:
        """A call ended: drop its baselines."""
        if not self.call_faults_armed:
            return
        with self._lock:
            for fault in self._call_faults:
                fault.baselines.pop(call_id, None)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after any change that may let held acks go out."""
        with self._lock:
            self._listeners.append(listener)

    def set_close_signal_handler(self, handler: Callable[[float], int] | None) -> None:
        self._close_signal_handler = handler

    # --- helpers ------------------------------------------------------------------------------------

    def _arm_call_fault(self, records: int, ending: CallEnding, times: int) -> None:
        if records < 0:
            raise ValueError(f"records must be >= 0, got {records}")
        _check_times(times)
        with self._lock:
            self._call_faults.append(_CallFault(records, ending, times))
            self.call_faults_armed = True

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


def _check_times(times: int) -> None:
    if times < 1:
        raise ValueError(f"times must be >= 1, got {times}")
