"""Internal: The I/O steps that the shared stream sequences (`StreamBase`) ask a driver to carry out.

A sequence is a generator: it yields one step, the driver does it (blocking, or awaiting) and
sends back the step's result (only `RunCall` has one: the error that ended the call, or None),
or throws in the `ZerobusException` the step raised. Drivers match on the step's type, and
mypy checks that every kind is handled (`unknown_step`, typed like `typing.assert_never`,
which Python 3.10 lacks).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import NoReturn

from zerobus.errors import ZerobusException

__all__ = ["RunCall", "Shutdown", "Sleep", "Step", "StepResult", "Steps", "Wait", "advance", "unknown_step"]


@dataclass(frozen=True, slots=True)
class RunCall:
    """Open call `call_id`, feed its responses to the engine until it ends; reply with its error."""

    call_id: int


@dataclass(frozen=True, slots=True)
class Sleep:
    """Back off for `seconds`, cut short only by the stream closing or failing."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait until logical `offset` is durable; raise the engine's timeout error naming `what`."""

    offset: int
    timeout_s: float | None
    what: str


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Wake everyone, let the supervisor finish, wait for pending callbacks."""


Step = RunCall | Sleep | Wait | Shutdown
# Sent back into a sequence: the result of the step it yielded.
StepResult = ZerobusException | None
Steps = Generator[Step, StepResult, None]


def advance(steps: Steps, result: StepResult, error: ZerobusException | None) -> Step | None:
    """The sequence's next step, given how the last one went; None once the sequence is over."""
    try:
        return steps.send(result) if error is None else steps.throw(error)
    except StopIteration:
        return None


def unknown_step(step: NoReturn) -> NoReturn:
    """The `case _:` of a driver's match over `Step`: mypy fails if any kind reaches it."""
    raise AssertionError(f"a driver got a step it does not know: {step!r}")
