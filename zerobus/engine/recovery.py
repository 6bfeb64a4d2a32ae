"""Internal: When a broken stream is reopened, after how long, and when it is given up.

Two questions, answered from the options and the error alone (no I/O):

- Is the failure retryable? Only `ZerobusException`s that are not `NonRetriableException`s
  (gRPC codes are classified once, in `zerobus.errors`), and only with `recovery` enabled.
- Is there budget left? Failures are counted until the stream makes progress again (an
  acknowledgment moves the durable offset, or a call stays healthy with nothing in flight for
  longer than one attempt may take). A stream that fails right after every reopen therefore
  exhausts `recovery_retries` instead of retrying forever; a long-lived stream that recovers
  now and then never runs out.

The first reconnect of a stream that was working happens at once; every further attempt waits
`recovery_backoff_ms`. Creation attempts that fail also back off before the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

from zerobus.errors import NonRetriableException, ZerobusException

__all__ = ["RecoveryDecision", "RecoveryPolicy"]


@dataclass(frozen=True)
class RecoveryDecision:
    """`retry` after `delay_s`, or give up with `error` (the real cause, for the user)."""

    retry: bool
    delay_s: float
    error: ZerobusException
    attempt: int


class RecoveryPolicy:
    """Counts failures without progress against `recovery_retries`."""

    def __init__(self, enabled: bool, retries: int, attempt_timeout_s: float, backoff_s: float) -> None:
        self.enabled = enabled
        self.retries = retries
        self.attempt_timeout_s = attempt_timeout_s
        self.backoff_s = backoff_s
        self.failures = 0

    def progress(self) -> None:
        """The stream moved forward: the next failure starts a fresh budget."""
        self.failures = 0

    def healthy_call_ended(self, open_for_s: float, in_flight: bool) -> None:
        """A call that stayed open longer than an attempt may take, with nothing in flight, was healthy."""
        if not in_flight and open_for_s >= self.attempt_timeout_s:
            self.failures = 0

    def on_failure(self, error: ZerobusException, was_open: bool) -> RecoveryDecision:
        """Decide what follows a failed attempt or a broken call."""
        self.failures += 1
        attempt = self.failures
        if not self.enabled or isinstance(error, NonRetriableException) or attempt > self.retries:
            return RecoveryDecision(False, 0.0, self._final_error(error), attempt)
        delay = 0.0 if (was_open and attempt == 1) else self.backoff_s
        return RecoveryDecision(True, delay, error, attempt)

    def _final_error(self, error: ZerobusException) -> ZerobusException:
        if isinstance(error, NonRetriableException) or not self.enabled:
            return error
        return type(error)(
            f"{error.message} (gave up after {self.failures} consecutive failed attempts; "
            f"recovery_retries={self.retries})",
            cause=error.cause if error.cause is not None else error,
        )
