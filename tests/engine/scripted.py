"""Helpers to drive the engine with scripted events and a hand-moved clock (no sockets)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from zerobus.engine import EngineConfig, StreamCore
from zerobus.protocol import (
    CloseStreamSignal,
    CreateIngestStreamResponse,
    EphemeralStreamRequest,
    EphemeralStreamResponse,
    IngestRecordResponse,
)


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Recorder:
    """A waiter that remembers how it was resolved."""

    def __init__(self) -> None:
        self.resolved = False
        self.error: BaseException | None = None

    def resolve(self, error: BaseException | None) -> None:
        self.resolved = True
        self.error = error


BASE_CONFIG = EngineConfig(
    table_name="main.default.events",
    record_type=1,
    descriptor_proto=b"\n\x01t",
    max_inflight_records=100,
    recovery_timeout_s=5.0,
    recovery_backoff_s=0.5,
    recovery_retries=3,
    flush_timeout_s=30.0,
    lack_of_ack_timeout_s=10.0,
)


def make_core(clock: FakeClock, **changes: Any) -> StreamCore:
    return StreamCore(replace(BASE_CONFIG, **changes), clock)


def created(stream_id: str = "s-1") -> Any:
    return EphemeralStreamResponse(create_stream_response=CreateIngestStreamResponse(stream_id=stream_id))


def ack(offset: int) -> Any:
    return EphemeralStreamResponse(
        ingest_record_response=IngestRecordResponse(durability_ack_up_to_offset=offset)
    )


def close_signal(seconds: float) -> Any:
    signal = CloseStreamSignal()
    signal.duration.seconds = int(seconds)
    signal.duration.nanos = round((seconds - int(seconds)) * 1e9)
    return EphemeralStreamResponse(close_stream_signal=signal)


def open_call(core: StreamCore, stream_id: str = "s-1") -> int:
    """Begin an attempt and answer it: the call is open and sending."""
    call_id = core.begin_attempt()
    assert call_id is not None
    core.on_response(call_id, created(stream_id))
    return call_id


def drain(core: StreamCore, call_id: int) -> list[tuple[int, list[Any]]]:
    """Every request the engine wants to send right now."""
    sent = []
    while (item := core.next_request(call_id)) is not None:
        sent.append((item[0], list(item[1])))
    return sent


def parse_request(data: bytes) -> Any:
    return EphemeralStreamRequest.FromString(data)
