"""Internal: Waiting until rows are visible in a table's Delta data (what a reader of the table sees).

Acknowledged records reach Delta in the materializer's next pass, not at the acknowledgement:
a reader that opens the table right after a client's `close()` may see none of them yet. Tests,
the CLI (``rows --wait``) and the REST API wait here instead of sleeping: each round asks the
materializer for a pass now, then counts the rows in the Delta table. `read_rows` reads them
back (`LocalZerobusServer.rows`, the REST rows route) after one such pass.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from zerobus.server.storage.quarantine import FramesQuarantined, MaterializationFailing

if TYPE_CHECKING:
    from zerobus.server.server_core import ServerCore

__all__ = ["delta_row_count", "materialize_acknowledged", "read_rows", "wait_for_rows"]

# Between rounds while a client is still sending: the wait stays responsive without spinning.
_POLL_INTERVAL_S = 0.05


def delta_row_count(core: ServerCore, full_name: str) -> int:
    """Rows in the table's Delta data now (no materialisation)."""
    from zerobus.server.storage.delta_read import open_dataset

    return int(open_dataset(core.table(full_name).entry.delta_path).count_rows())


def materialize_acknowledged(core: ServerCore, full_name: str, timeout_s: float) -> None:
    """Everything acknowledged for the table is in Delta when this returns, or it raises why not."""
    table = core.table(full_name)
    acknowledged = table.log.durable_seq
    core.materializer.flush(timeout_s)
    frames = table.quarantine.frames()
    if frames:
        raise FramesQuarantined(frames)
    if not table.dropped and table.materialized_seq < acknowledged:
        raise MaterializationFailing(table.entry.full_name, table.materialize_error)


def read_rows(core: ServerCore, full_name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Materialise what was acknowledged, then the table's rows (the first `limit`) in log order.

    Raises `FramesQuarantined` if some acknowledged records could not be materialised (never a
    success with rows missing), `MaterializationFailing` if writing the table keeps failing.
    """
    from zerobus.server.storage.delta_read import read_in_log_order

    materialize_acknowledged(core, full_name, 30.0)
    data = read_in_log_order(core.table(full_name).entry.delta_path, None if limit is None else max(0, limit))
    rows: list[dict[str, Any]] = data.to_pylist(maps_as_pydicts="strict")
    return rows


def wait_for_rows(core: ServerCore, full_name: str, count: int | None = None, timeout_s: float = 30.0) -> int:
    """Wait until the table's Delta data holds at least `count` rows; returns how many it holds.

    `count` None: every record acknowledged so far. `TimeoutError` (naming the table, the rows
    seen and the rows expected) when that takes longer than `timeout_s`; `FramesQuarantined` or
    `MaterializationFailing` when acknowledged records cannot reach the table.
    """
    if count is not None and count < 0:
        raise ValueError(f"count must be 0 or more rows, got {count}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s}")
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        try:
            materialize_acknowledged(core, full_name, max(remaining, 0.001))
        except TimeoutError:
            remaining = 0
        seen = delta_row_count(core, full_name)
        if count is None and remaining > 0:
            return seen
        if count is not None and seen >= count:
            return seen
        if deadline - time.monotonic() <= 0:
            wanted = "every acknowledged record" if count is None else f"at least {count}"
            raise TimeoutError(
                f"table {full_name} holds {seen} rows after {timeout_s:g}s, waiting for {wanted}"
            )
        time.sleep(min(_POLL_INTERVAL_S, max(deadline - time.monotonic(), 0)))
