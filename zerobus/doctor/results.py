"""Internal: One line per check: its outcome, what was seen, and for a failure the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CheckResult", "Outcome", "failed", "passed", "skipped"]


class Outcome(str, Enum):
    OK = "OK"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    """What one check found; `fix` is set for failures (what to change)."""

    name: str
    outcome: Outcome
    detail: str
    fix: str | None = None

    def line(self) -> str:
        text = f"{self.outcome.value:<4} {self.name}: {self.detail}"
        return f"{text} -- fix: {self.fix}" if self.fix else text


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.OK, detail)


def failed(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Outcome.FAIL, detail, fix)


def skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Outcome.SKIP, detail)
