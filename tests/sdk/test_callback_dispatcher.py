"""The callback thread: order, isolation from errors, draining (no server)."""

from __future__ import annotations

import logging
import threading

import pytest

from zerobus.protocol import IngestRecordResponse
from zerobus.sdk.shared import AckCallback
from zerobus.sdk.shared.callbacks import CallbackDispatcher


class Collect(AckCallback):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_ack(self, offset: int) -> None:
        if offset == 3:
            raise ValueError("user bug")
        self.events.append(("ack", offset))

    def on_error(self, offset: int, error_message: str) -> None:
        self.events.append((error_message, offset))


def test_callbacks_run_in_order_on_their_own_thread(caplog: pytest.LogCaptureFixture) -> None:
    callback = Collect()
    dispatcher = CallbackDispatcher(callback, "t")
    ran_on: list[str] = []
    dispatcher.acked(0, 4)  # offset 3 raises: logged, the rest still runs
    dispatcher.call(lambda offset: ran_on.append(threading.current_thread().name), 9)
    dispatcher.failed(5, 6, "boom")
    assert dispatcher.drain(10)
    assert callback.events == [("ack", 0), ("ack", 1), ("ack", 2), ("ack", 4), ("boom", 5), ("boom", 6)]
    assert ran_on == ["zerobus-callbacks-t"]
    assert [r.levelno for r in caplog.records if "callback" in r.getMessage()] == [logging.ERROR]


def test_plain_callables_get_one_response_per_ack() -> None:
    got: list[IngestRecordResponse] = []
    dispatcher = CallbackDispatcher(got.append, "t")
    dispatcher.acked(0, 9)
    dispatcher.failed(10, 11, "ignored: the old callable has no error hook")
    assert dispatcher.drain(10)
    assert [r.durability_ack_up_to_offset for r in got] == [9]


def test_drain_gives_up_after_its_timeout() -> None:
    release = threading.Event()
    dispatcher = CallbackDispatcher(None, "t")
    assert not dispatcher.has_ack_callback
    dispatcher.acked(0, 1)  # no ack callback: nothing queued
    assert dispatcher.drain(0)
    dispatcher.call(lambda: release.wait(10))
    assert not dispatcher.drain(0.05)
    release.set()
    assert dispatcher.drain(10)
