"""Show the conformance score in the terminal summary (any pytest run that measured it)."""

from __future__ import annotations

import pytest

from tests.conformance import surface


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for score in surface.SCORES:
        terminalreporter.write_sep("-", f"drop-in conformance: {score}")
