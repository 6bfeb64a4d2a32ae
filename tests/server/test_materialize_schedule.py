"""A timed materialisation pass yields to records still arriving, within `materialize_max_lag_s`.

The rule (`PassTimer`) is driven with scripted clock values; the thread that follows it is
checked on a real server: rows reach Delta by the timer alone once records pause, and a
flush never waits.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.server.wire_client import open_stream
from zerobus.errors import ConfigurationError
from zerobus.server import LocalZerobusServer
from zerobus.server.cli import main as emulator_cli
from zerobus.server.config import ServerConfig
from zerobus.server.storage.materialize_schedule import QUIET_S, PassTimer
from zerobus.server.storage.row_visibility import delta_row_count

TABLE = "main.default.schedule"


def test_a_pass_with_nothing_new_since_the_last_look_starts_at_once() -> None:
    timer = PassTimer(delay_s=1.0, max_lag_s=5.0, now=0.0, marks=(3,))
    assert timer.seconds_to_wait(1.0, (3,), forced=False) == 0.0


def test_records_still_arriving_put_the_pass_off_until_they_pause() -> None:
    timer = PassTimer(delay_s=1.0, max_lag_s=5.0, now=0.0, marks=(0,))
    assert timer.seconds_to_wait(1.0, (10,), forced=False) == QUIET_S
    assert timer.seconds_to_wait(1.0 + QUIET_S, (20,), forced=False) == QUIET_S
    # No new frame since the last look: the burst paused.
    assert timer.seconds_to_wait(1.0 + 2 * QUIET_S, (20,), forced=False) == 0.0


def test_the_pass_is_never_put_off_past_the_maximum_lag() -> None:
    timer = PassTimer(delay_s=1.0, max_lag_s=2.0, now=10.0, marks=(0,))
    assert timer.seconds_to_wait(11.0, (1,), forced=False) == QUIET_S
    # Less than the quiet time left: the next look is at the bound exactly.
    assert timer.seconds_to_wait(11.9, (2,), forced=False) == pytest.approx(0.1)
    assert timer.seconds_to_wait(12.0, (3,), forced=False) == 0.0
    assert timer.seconds_to_wait(13.5, (4,), forced=False) == 0.0


def test_the_bound_counts_from_the_start_of_the_previous_pass() -> None:
    timer = PassTimer(delay_s=1.0, max_lag_s=2.0, now=0.0, marks=(0,))
    assert timer.seconds_to_wait(3.0, (1,), forced=False) == 0.0
    timer.pass_started(3.0, (1,))
    assert timer.seconds_to_wait(4.0, (2,), forced=False) == QUIET_S


def test_a_flush_never_waits() -> None:
    timer = PassTimer(delay_s=1.0, max_lag_s=5.0, now=0.0, marks=(0,))
    assert timer.seconds_to_wait(0.1, (1,), forced=True) == 0.0


@pytest.mark.parametrize(("delay_s", "max_lag_s"), [(1.0, 0.0), (2.0, 2.0), (3.0, 1.0), (0.0, 5.0)])
def test_a_lag_bound_within_the_delay_or_no_delay_keeps_passes_on_the_timer(
    delay_s: float, max_lag_s: float
) -> None:
    timer = PassTimer(delay_s=delay_s, max_lag_s=max_lag_s, now=0.0, marks=(0,))
    assert timer.seconds_to_wait(delay_s, (1,), forced=False) == 0.0


def test_a_short_delay_shortens_the_quiet_time() -> None:
    timer = PassTimer(delay_s=0.05, max_lag_s=5.0, now=0.0, marks=(0,))
    assert timer.seconds_to_wait(0.05, (1,), forced=False) == 0.05


@pytest.mark.parametrize("bad", [-1.0, -0.001, math.nan, math.inf])
def test_a_bad_maximum_lag_is_refused_naming_it(bad: float) -> None:
    with pytest.raises(ConfigurationError, match=r"materialize_max_lag_s must be a finite number >= 0, got"):
        ServerConfig(materialize_max_lag_s=bad)
    with pytest.raises(ConfigurationError, match=r"materialize_max_lag_s"):
        PassTimer(delay_s=1.0, max_lag_s=bad, now=0.0, marks=())


@pytest.mark.parametrize(
    ("bad", "reason"), [("-1", "-1.0 is not in the range x>=0"), ("nan", "finite"), ("inf", "finite")]
)
def test_the_emulator_refuses_a_bad_maximum_lag(tmp_path: Path, bad: str, reason: str) -> None:
    result = CliRunner().invoke(
        emulator_cli, ["start", "--data-dir", str(tmp_path), "--materialize-max-lag", bad]
    )
    assert result.exit_code == 2
    assert "--materialize-max-lag" in result.output
    assert reason in result.output


def test_rows_reach_delta_by_the_timer_once_records_pause(tmp_path: Path) -> None:
    """With a lag bound that never ends the wait, only the pause starts the pass."""
    server = LocalZerobusServer(
        data_dir=tmp_path,
        materialize_delay_s=0.05,
        materialize_max_lag_s=3600.0,
        tables={TABLE: "id BIGINT NOT NULL"},
    )
    with server, open_stream(server, TABLE, json=True) as stream:
        stream.wait_created()
        for offset in range(5):
            stream.batch(offset, [json.dumps({"id": offset * 10 + i}) for i in range(10)])
        assert stream.wait_acked(4)
        deadline = time.monotonic() + 30
        while delta_row_count(server.core, TABLE) < 50 and time.monotonic() < deadline:
            time.sleep(0.02)  # another thread's timer: nothing to wait on but the table itself
        assert delta_row_count(server.core, TABLE) == 50
        stream.half_close()
        assert stream.wait_done() is None


def test_a_flush_materialises_at_once_whatever_the_timer(tmp_path: Path) -> None:
    server = LocalZerobusServer(
        data_dir=tmp_path,
        materialize_delay_s=3600.0,
        materialize_max_lag_s=3600.0,
        tables={TABLE: "id BIGINT NOT NULL"},
    )
    with server, open_stream(server, TABLE, json=True) as stream:
        stream.wait_created()
        stream.batch(0, [json.dumps({"id": i}) for i in range(7)])
        assert stream.wait_acked(0)
        assert server.wait_for_rows(TABLE, 7, timeout_s=30) == 7
        assert sorted(row["id"] for row in server.rows(TABLE)) == list(range(7))
        stream.half_close()
        assert stream.wait_done() is None
