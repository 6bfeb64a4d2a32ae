"""Per-stream rate limits: the token buckets with a scripted clock, and a live stream held to them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.server.conftest import TableKit
from tests.server.wire_client import open_stream
from zerobus.errors import ConfigurationError
from zerobus.server import LocalZerobusServer
from zerobus.server.cli import main
from zerobus.server.rate_limit import (
    SERVICE_BYTES_PER_S,
    SERVICE_RECORDS_PER_S,
    AckPacer,
    StreamRateLimit,
    limit_from_settings,
)


class ManualClock:
    """Time that moves only when the test says so (read from the server's loop thread too)."""

    def __init__(self) -> None:
        self._now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


def _poll(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Deadline-bounded poll of a server counter (no response wakes the client for it)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        threading.Event().wait(0.005)
    return True


# --- the buckets, with a scripted clock ---------------------------------------------------------


def test_records_are_released_no_faster_than_the_limit() -> None:
    clock = ManualClock()
    pacer = AckPacer(StreamRateLimit(records_per_s=100), clock)  # bucket: 10 records (0.1 s)
    for offset in range(100):
        pacer.add(offset, 1, 40)
    pacer.make_eligible(99)
    released, retry_in = pacer.release()
    # Ten tokens, and the eleventh request goes out on a bucket not yet in debt.
    assert released == 10
    assert retry_in == pytest.approx(0.01)
    assert pacer.holding
    assert pacer.release() == (-1, pytest.approx(0.01))  # no time passed: nothing more

    total_seconds = 0.0
    while pacer.holding:
        clock.advance(0.05)
        total_seconds += 0.05
        pacer.release()
        # Never more than the burst, one request of debt and the rate times the elapsed time.
        assert pacer.released_records <= 10 + 1 + 100 * total_seconds + 1e-9
    assert pacer.released_records == 100
    assert total_seconds == pytest.approx(0.9, abs=0.051)


def test_a_request_larger_than_the_bucket_still_goes_out_and_the_debt_is_paid() -> None:
    clock = ManualClock()
    pacer = AckPacer(StreamRateLimit(bytes_per_s=1_000_000), clock)  # bucket: 100,000 bytes
    pacer.add(0, 1000, 5_000_000)
    pacer.add(1, 1, 10)
    pacer.make_eligible(1)
    released, retry_in = pacer.release()
    assert released == 0  # the big batch went out: the bucket was not in debt
    assert retry_in == pytest.approx(4.9)  # 4,900,000 bytes of debt at 1 MB/s
    clock.advance(4.9)
    assert pacer.release() == (1, None)
    assert not pacer.holding
    assert (pacer.released_records, pacer.released_bytes) == (1001, 5_000_010)


def test_both_limits_hold_and_only_eligible_requests_are_released() -> None:
    clock = ManualClock()
    pacer = AckPacer(StreamRateLimit(records_per_s=1000, bytes_per_s=1000), clock)
    pacer.add(0, 1, 500)
    pacer.add(1, 1, 500)
    pacer.add(2, 1, 10)
    assert pacer.release() == (-1, None)  # stored, not yet durable: not the limit's business
    pacer.make_eligible(0)
    assert pacer.release() == (0, None)
    pacer.make_eligible(2)
    # The bytes bucket (100 bytes) is 400 in debt after offset 0: the records bucket is not the limit.
    assert pacer.release() == (-1, pytest.approx(0.4))
    clock.advance(0.4)
    assert pacer.release() == (1, pytest.approx(0.5))
    clock.advance(0.5)
    assert pacer.release() == (2, None)
    assert not pacer.holding
    assert pacer.released_records == 3


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"records_per_s": 0}, "records_per_s"),
        ({"records_per_s": -5.0}, "records_per_s"),
        ({"bytes_per_s": float("nan")}, "bytes_per_s"),
        ({"bytes_per_s": float("inf")}, "bytes_per_s"),
        ({"records_per_s": "fast"}, "records_per_s"),
        ({"records_per_s": True}, "records_per_s"),
    ],
)
def test_bad_limits_are_refused_naming_the_field(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        StreamRateLimit(**arguments)  # type: ignore[arg-type]


def test_settings_service_limits_and_explicit_values() -> None:
    assert limit_from_settings() is None
    service = limit_from_settings(service_limits=True)
    assert service is not None
    assert (service.records_per_s, service.bytes_per_s) == (SERVICE_RECORDS_PER_S, SERVICE_BYTES_PER_S)
    assert (SERVICE_RECORDS_PER_S, SERVICE_BYTES_PER_S) == (15_000, 100_000_000)
    mixed = limit_from_settings(records_per_s=500, service_limits=True)
    assert mixed is not None and (mixed.records_per_s, mixed.bytes_per_s) == (500, SERVICE_BYTES_PER_S)
    only_records = limit_from_settings(records_per_s=500)
    assert only_records is not None and only_records.bytes_per_s is None


def test_emulator_cli_takes_the_limits_and_refuses_bad_ones() -> None:
    runner = CliRunner()
    help_text = runner.invoke(main, ["start", "--help"]).output
    for flag in ("--stream-rate-limit", "--stream-byte-rate-limit", "--service-limits"):
        assert flag in help_text
    for bad in ("0", "-1", "inf", "many"):
        result = runner.invoke(main, ["start", "--in-memory", "--stream-rate-limit", bad])
        assert result.exit_code == 2, result.output
        assert "--stream-rate-limit" in result.output


# --- a live stream, its buckets on a scripted clock ------------------------------------------------


def test_a_live_stream_is_held_to_the_limit_and_loses_nothing(tmp_path: Path) -> None:
    clock = ManualClock()
    with LocalZerobusServer(
        data_dir=tmp_path, stream_rate_limit=100, rate_limit_clock=clock, materialize_delay_s=0.1
    ) as server:
        server.create_table("main.default.paced", "id BIGINT NOT NULL")
        kit = TableKit(server, "main.default.paced")
        with open_stream(server, kit.name, kit.descriptor) as stream:
            stream.wait_created()
            for offset in range(30):
                stream.record(offset, kit.encode(id=offset))
            # The clock stands still: the burst (10) and one request of debt, then nothing more,
            # however often the server looks again.
            assert stream.wait_acked(10)
            assert _poll(lambda: server.stats.acks_paced >= 5)
            assert stream.acked == 10
            # Held back from acks, not from the log: all 30 are stored (the reader may still be at it).
            assert _poll(lambda: server.stats.records_stored == 30)

            clock.advance(0.1)  # ten more tokens
            assert stream.wait_acked(20)
            assert _poll(lambda: server.stats.acks_paced >= 10)
            assert stream.acked == 20

            clock.advance(1.0)
            assert stream.wait_acked(29)
            stream.half_close()
            assert stream.wait_done() is None
        assert [row["id"] for row in server.rows(kit.name)] == list(range(30))


def test_without_a_limit_nothing_is_paced(zerobus_server: LocalZerobusServer, make_table) -> None:  # type: ignore[no-untyped-def]
    kit = make_table("id BIGINT NOT NULL")
    before = zerobus_server.stats.acks_paced
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        for offset in range(50):
            stream.record(offset, kit.encode(id=offset))
        assert stream.wait_acked(49)
    assert zerobus_server.stats.acks_paced == before


def test_the_pytest_plugin_options_limit_the_session_server(tmp_path: Path) -> None:
    (tmp_path / "test_limits.py").write_text(
        "def test_limits(zerobus_server):\n"
        "    limit = zerobus_server.config.stream_rate_limit\n"
        "    assert (limit.records_per_s, limit.bytes_per_s) == (500, 100_000_000)\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "--zerobus-service-limits",
            "--zerobus-stream-rate-limit",
            "500",
            str(tmp_path / "test_limits.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["stream_rate_limit", "stream_byte_rate_limit"])
@pytest.mark.parametrize("value", [0, -1.0, float("nan"), "15000"])
def test_the_server_refuses_bad_limits_naming_its_argument(name: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"{name} must be a number > 0"):
        LocalZerobusServer(**{name: value})  # type: ignore[arg-type]
