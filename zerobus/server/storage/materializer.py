"""Internal: Move durable log frames into each table's Delta table, exactly once per log position.

One background thread wakes every `delay_s` (or at once when asked to flush; a timed pass yields
to records still arriving, within `max_lag_s`: `materialize_schedule`), reads the durable
frames each table has not materialised yet, decodes them to rows and appends them with one
Delta commit per table (`delta_append`: one data file, named by its log position). The commit
carries a Delta application transaction ``(app_id, last seq)``; on restart
`DeltaTable.transaction_version(app_id)` says where to resume, so a frame is never written
twice, nor skipped, even after `kill -9` between the write and any bookkeeping of ours.

A frame that cannot be turned into rows (or whose rows Arrow or the schema's NOT NULL refuse)
never blocks its table: it is quarantined (`quarantine`: kept on disk with the reason, logged,
counted) before the commit that skips it, and whatever waits for materialisation reports it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from zerobus.server.stats import ServerStats
from zerobus.server.storage.commit_builder import CommitBuilder
from zerobus.server.storage.delta_append import append_commit
from zerobus.server.storage.delta_recovery import remove_log_without_commit
from zerobus.server.storage.delta_types import RowConverter, arrow_row_converter, arrow_schema
from zerobus.server.storage.frame_faults import FrameFaults
from zerobus.server.storage.frames import KIND_ARROW, KIND_JSON, split_frame
from zerobus.server.storage.materialize_schedule import DEFAULT_MAX_LAG_S, PassTimer
from zerobus.server.storage.tables import TableRuntime

__all__ = ["Materializer", "ensure_delta_table"]

logger = logging.getLogger(__name__)

# Rows per Delta commit at most (bounds memory while catching up after a restart).
MAX_ROWS_PER_COMMIT = 500_000


def ensure_delta_table(table: TableRuntime) -> None:
    """Create the table's (empty) Delta table if missing, and load where materialisation stopped."""
    from deltalake import DeltaTable

    path = table.entry.delta_path
    remove_log_without_commit(path)
    if not DeltaTable.is_deltatable(str(path)):
        DeltaTable.create(str(path), schema=arrow_schema(table.entry.schema), mode="ignore")
    version = DeltaTable(str(path)).transaction_version(table.app_id)
    table.materialized_seq = -1 if version is None else int(version)
    if table.materialized_seq >= 0:
        table.log.discard_through(table.materialized_seq)


class Materializer:
    """The background thread that writes durable records into Delta tables."""

    def __init__(
        self,
        delay_s: float,
        tables: Callable[[], list[TableRuntime]],
        stats: ServerStats,
        frame_faults: FrameFaults | None = None,
        max_lag_s: float = DEFAULT_MAX_LAG_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._timer = PassTimer(delay_s, max_lag_s, clock(), self._marks(tables))
        self._tables = tables
        self._stats = stats
        self._frame_faults = frame_faults
        self._condition = threading.Condition()
        self._wake = False
        self._stopping = False
        self._cycles = 0
        self._thread = threading.Thread(target=self._run, name="zerobus-materializer", daemon=True)
        self._thread.start()

    def flush(self, timeout_s: float) -> None:
        """Materialise everything durable right now; TimeoutError if it takes over `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._condition:
            # Two full cycles after this call: the first may have started before it.
            target = self._cycles + 2
            self._wake = True
            self._condition.notify_all()
            while self._cycles < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping:
                    raise TimeoutError(f"materialisation did not finish within {timeout_s}s")
                self._wake = True
                self._condition.notify_all()
                self._condition.wait(remaining)

    def stop(self) -> None:
        """Finish a last cycle (everything durable gets materialised), then end the thread."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join()

    @staticmethod
    def _marks(tables: Callable[[], list[TableRuntime]]) -> tuple[int, ...]:
        """What changes whenever a frame becomes durable in any table."""
        return tuple(table.log.durable_seq for table in tables())

    def _run(self) -> None:
        wait_s = self._timer.delay_s
        while True:
            with self._condition:
                if not self._wake and not self._stopping:
                    self._condition.wait(wait_s)
                forced = self._wake or self._stopping
                self._wake = False
                stopping = self._stopping
            now, marks = self._clock(), self._marks(self._tables)
            wait_s = self._timer.seconds_to_wait(now, marks, forced)
            if wait_s > 0:  # records are still arriving: let them be acknowledged first
                logger.debug("materialisation pass put off %.2f s: records are arriving", wait_s)
                continue
            self._timer.pass_started(now, marks)
            wait_s = self._timer.delay_s
            for table in self._tables():
                try:
                    written = self.materialize(table)
                except Exception as error:
                    if not table.dropped:  # a table dropped meanwhile has nothing left to write
                        table.materialize_error = f"{type(error).__name__}: {error}"
                        logger.exception("materialising %s failed; will retry", table.entry.full_name)
                else:
                    table.materialize_error = None
                    if written:
                        logger.debug("materialised %d rows of %s", written, table.entry.full_name)
            with self._condition:
                self._cycles += 1
                self._condition.notify_all()
            if stopping:
                return

    def materialize(self, table: TableRuntime) -> int:
        """Write this table's durable, not yet materialised frames; returns rows written."""
        if table.dropped:
            return 0
        total = 0
        while True:
            data, last_seq, rejected = self._collect(table)
            if last_seq is None:
                return total
            for seq, payload, reason in rejected:
                # Durably aside before the commit whose transaction version skips the frame.
                if table.quarantine.add(seq, payload, reason):
                    counts = self._stats.quarantined_frames
                    counts[table.entry.full_name] = counts.get(table.entry.full_name, 0) + 1
            append_commit(table.entry.delta_path, data, table.app_id, last_seq)
            table.materialized_seq = last_seq
            table.log.discard_through(last_seq)
            self._stats.rows_materialized += data.num_rows
            total += data.num_rows

    def _collect(self, table: TableRuntime) -> tuple[Any, int | None, list[tuple[int, bytes, str]]]:
        """The next commit's data (a pyarrow Table, in log order), its last seq (None: nothing),
        and the frames left out of it: (seq, frame, reason)."""
        converters = {
            False: arrow_row_converter(table.entry.schema, json_mode=False),
            True: arrow_row_converter(table.entry.schema, json_mode=True),
        }
        builder = CommitBuilder(table.entry.schema)
        record_frames: dict[int, bytes] = {}
        rejected: list[tuple[int, bytes, str]] = []
        last_seq: int | None = None
        for seq, payload in table.log.read_durable(table.materialized_seq):
            last_seq = seq
            try:
                self._add_frame(table, seq, payload, builder, converters)
            except Exception as error:  # accepted frames were checked once already: a defect or damage
                rejected.append((seq, payload, f"{type(error).__name__}: {error}"))
            else:
                record_frames[seq] = payload
            if builder.num_rows >= MAX_ROWS_PER_COMMIT:
                break
        data = builder.table()
        rejected.extend((seq, record_frames[seq], reason) for seq, reason in builder.rejected)
        rejected.sort(key=lambda item: item[0])
        return data, last_seq, rejected

    def _add_frame(
        self,
        table: TableRuntime,
        seq: int,
        payload: bytes,
        builder: CommitBuilder,
        converters: dict[bool, RowConverter | None],
    ) -> None:
        """Decode one frame into `builder`; raises if it cannot be."""
        faults = self._frame_faults
        injected = faults.failure(table.entry.full_name, seq) if faults is not None else None
        if injected is not None:
            raise RuntimeError(injected)
        kind, key, request = split_frame(payload)
        if kind == KIND_ARROW:
            builder.add_arrow_frame(request)
            return
        codec = table.codec(kind, key)
        convert = converters[kind == KIND_JSON]
        rows = [codec.to_row(record) for record in codec.stored_records(request)]
        builder.add_frame_rows(seq, rows if convert is None else list(map(convert, rows)))
