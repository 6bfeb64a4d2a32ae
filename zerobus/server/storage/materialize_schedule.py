"""Internal: When the materialiser's next timed pass starts: it yields to ingestion, within a bounded lag.

A pass decodes log frames into Arrow and writes Parquet in the process that acknowledges
records, holding the interpreter lock for much of it; run in the middle of a burst, it delays
every acknowledgement. So a timed pass that finds new durable frames since it last looked
waits for them to pause (no new frame for `quiet_s`), but never past `max_lag_s` after the
previous pass started. A record acknowledged at time t is therefore in Delta by
t + max(delay_s, max_lag_s) plus the time the passes take. Fewer passes under load also means
fewer, larger Delta commits. A flush (`wait_for_rows`, `rows()`, `stop()`) never waits.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from zerobus.errors import ConfigurationError

__all__ = ["DEFAULT_MAX_LAG_S", "QUIET_S", "PassTimer"]

# The default bound on how long a timed pass may be put off while records keep arriving.
DEFAULT_MAX_LAG_S = 5.0
# Records arriving less than this far apart count as one burst (capped by the pass delay).
QUIET_S = 0.25


class PassTimer:
    """Decides, at each wake-up of the materialiser, whether to pass now or look again later.

    `marks` is anything that changes when a frame becomes durable (the tables' durable seqs);
    `now` comes from the caller's clock, so tests script time.
    """

    def __init__(self, delay_s: float, max_lag_s: float, now: float, marks: Hashable) -> None:
        if not math.isfinite(max_lag_s) or max_lag_s < 0:
            raise ConfigurationError(f"materialize_max_lag_s must be a finite number >= 0, got {max_lag_s}")
        self.delay_s = delay_s
        self.max_lag_s = max_lag_s
        self.quiet_s = min(QUIET_S, delay_s)
        self._last_pass_at = now
        self._marks = marks

    def seconds_to_wait(self, now: float, marks: Hashable, forced: bool) -> float:
        """0: start a pass now; otherwise records are still arriving: look again after this long."""
        arrived = marks != self._marks
        self._marks = marks
        if forced or not arrived:
            return 0.0
        lag_left = self._last_pass_at + self.max_lag_s - now
        if lag_left <= 0:
            return 0.0
        return min(self.quiet_s, lag_left)

    def pass_started(self, now: float, marks: Hashable) -> None:
        """A pass starts now; it takes every frame durable at `marks`."""
        self._last_pass_at = now
        self._marks = marks
