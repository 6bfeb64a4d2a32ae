"""Checks shared by the TLS tests."""

from __future__ import annotations

from typing import Any

from tests.support.waiting import wait_until

__all__ = ["assert_handshakes_failed"]


def assert_handshakes_failed(server: Any, before: int, expected: int, timeout_s: float = 20.0) -> None:
    """Exactly `expected` more HTTPS handshakes failed at `server` than `before`.

    The client sees the failure before the server's worker has counted it, so the count is
    polled up to a deadline; every attempt a client made was started before it raised.
    """
    wait_until(lambda: server.stats.https_handshakes_failed >= before + expected, timeout_s)
    assert server.stats.https_handshakes_failed == before + expected
