"""Internal: An Arrow Flight stream's life, shared by the sync and asyncio `ZerobusArrowStream`.

The bookkeeping is `zerobus.engine.arrow_ledger.ArrowLedger`; this object keeps it consistent
across threads (the callers', each call's ack reader) and moves the batches onto `FlightCall`s:

- `ingest` conforms the data to the stream's schema and cuts it under the request limit before
  anything is sent, then waits for room in the window (`max_inflight_batches`) per batch and
  queues it for the stream's writer thread (`zerobus.sdk.shared.arrow_writer`), which writes the
  batches in offset order while the caller goes on;
- a call that ends, fails to take a write, or goes `server_lack_of_ack_timeout_ms` without an
  ack while batches are in flight is replaced (`recovery`): a new call, every unacknowledged
  batch resent in order first; whoever notices first recovers, holding the send lock, so no
  new batch overtakes the replay;
- a non-retryable status, exhausted retries or `recovery=False` fail the stream: every waiter
  raises the error, and `unacked` still holds every batch the server did not acknowledge.

Waits take an `abort` event so that the asyncio stream can give up a wait it was cancelled in.
From its first call until it is closed the session is counted in the SDK's stats and settled by
`ZerobusSdk.close()` and at interpreter exit (`zerobus.sdk.shared.arrow_lifecycle`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from zerobus.encoders.arrow_input import as_arrow_table
from zerobus.engine import StreamState, StreamTimeoutError
from zerobus.engine.arrow_ledger import AckOutOfRange, ArrowLedger
from zerobus.engine.arrow_stats import ArrowStreamStats, arrow_snapshot
from zerobus.engine.stats import stream_log_fields
from zerobus.errors import ConfigurationError, NonRetriableException, ZerobusException
from zerobus.sdk.shared import arrow_lifecycle
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.shared.arrow_batches import conform, split_to_fit
from zerobus.sdk.shared.arrow_flight import FlightCall, flight_error
from zerobus.sdk.shared.arrow_writer import BatchWriter
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.stream_plan import SdkConfig

__all__ = ["ArrowPlan", "ArrowSession", "WaitAborted"]

logger = logging.getLogger(__name__)

OPENED, RECOVERING, CLOSED, FAILED = "OPENED", "RECOVERING", "CLOSED", "FAILED"
_STATES = {name: StreamState[name] for name in (OPENED, RECOVERING, CLOSED, FAILED)}


class WaitAborted(Exception):
    """The caller gave up a wait (the asyncio task was cancelled)."""


@dataclass
class ArrowPlan:
    """What an Arrow stream is made of, decided before its first call (kept for recreating it)."""

    table_name: str
    schema: pa.Schema
    options: ArrowStreamConfigurationOptions
    headers_provider: HeadersProvider
    credentials: tuple[str, str] | None


class ArrowSession:
    """The state of one Arrow stream; every method may block (the asyncio stream uses a thread)."""

    def __init__(self, config: SdkConfig, plan: ArrowPlan) -> None:
        self._config = config
        self.plan = plan
        self._options = plan.options
        self._ledger: ArrowLedger[pa.RecordBatch] = ArrowLedger(plan.options.max_inflight_batches)
        self._cond = threading.Condition()
        self._send_lock = threading.RLock()
        self._state = OPENED
        self._error: ZerobusException | None = None
        self._call: FlightCall | None = None
        self._writer: BatchWriter | None = None  # started once the first call is ready
        self._last_progress = time.monotonic()  # the last ack, or the start of the current call
        self._recoveries = 0
        self._last_error: tuple[str, float] | None = None  # message, when (for the stats)
        endpoint = config.endpoint
        self._location = f"{'grpc+tls' if endpoint.secure else 'grpc'}://{endpoint.target}"
        roots = config.root_certificates
        self._tls_roots = roots.pem if (roots is not None and endpoint.secure) else None

    # --- opening ---------------------------------------------------------------------------------

    def open(self) -> None:
        """The first call; a setup error (auth, grants, table, schema) raises here."""
        with self._send_lock:
            self._start_call(self._options.connection_timeout_ms / 1000)
            self._writer = BatchWriter(self._is_current, self._on_write_failed)
        arrow_lifecycle.opened(self._config, self)

    def _start_call(self, timeout_s: float) -> None:
        """A new call, ready, with every unacknowledged batch resent (caller holds the send lock)."""
        headers = self._config.headers(self.plan.headers_provider, self.plan.table_name)
        codec = self._options.ipc_compression.codec
        call = FlightCall.open(
            self._location, self._tls_roots, self._config.user_agent, headers, self.plan.table_name,
            self.plan.schema, codec, self._on_ack, self._on_end,
        )  # fmt: skip
        call.wait_ready(timeout_s)
        with self._cond:
            generation, replay = self._ledger.start_call(time.monotonic())
            call.generation = generation
            self._call = call
            self._last_progress = time.monotonic()
        if replay:
            logger.info(
                "Arrow stream to %s: resending %d unacknowledged batch(es)",
                self.plan.table_name,
                len(replay),
                extra=self.log_fields(),
            )
        try:
            for physical, pending in replay:
                call.send(pending.payload, physical)
        except (OSError, pa.ArrowException) as error:
            raise call.write_failure(error, timeout_s) from error

    # --- ingesting -------------------------------------------------------------------------------

    def prepare(self, data: Any) -> list[pa.RecordBatch]:
        """`data` checked against the schema and cut under the request limit (nothing sent yet)."""
        table = conform(as_arrow_table(data, "ingest_batch"), self.plan.schema)
        if table.num_rows == 0:
            raise ConfigurationError("ingest_batch got no rows: an empty batch cannot be ingested")
        return [piece for batch in table.combine_chunks().to_batches() for piece in split_to_fit(batch)]

    def send(self, batch: pa.RecordBatch, abort: threading.Event | None = None) -> int:
        """Queue one prepared batch for the writer once the window has room; its logical offset.

        From here the batch is the stream's: in the ledger until acknowledged, resent by any
        recovery, and kept for `get_unacked_batches` if the stream fails.
        """
        while True:
            self._wait(self._ledger.has_room, None, abort, "room for another batch")
            with self._send_lock, self._cond:
                self._raise_if_unusable()
                if not self._ledger.has_room():
                    continue
                offset, physical = self._ledger.add(batch, batch.num_rows, batch.nbytes, time.monotonic())
                assert self._call is not None and self._writer is not None
                self._writer.put(self._call, physical, batch)
                return offset

    def _is_current(self, call: FlightCall) -> bool:
        """Whether the writer should still write to `call` (a replaced call's batches are resent)."""
        return call is self._call and self._state == OPENED

    def _on_write_failed(self, call: FlightCall, error: BaseException) -> None:
        """The writer's write to `call` failed: recover with the call's own status, as any failure."""
        if isinstance(error, (OSError, pa.ArrowException)):
            failure = call.write_failure(error, self._options.connection_timeout_ms / 1000)
        else:  # not the network's doing: resending would fail alike
            failure = NonRetriableException(
                f"Stream is closed: writing a batch failed: {error!r}", cause=error
            )
        self._recover(call, failure)

    # --- waiting ---------------------------------------------------------------------------------

    def wait_for_offset(self, offset: int, abort: threading.Event | None = None) -> None:
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ConfigurationError(f"wait_for_offset needs an offset >= 0, got {offset!r}")
        if offset >= self._ledger.next_offset:
            raise ConfigurationError(
                f"offset {offset} was never handed out (the last batch has offset {self._ledger.next_offset - 1})"
            )
        timeout_s = self._options.flush_timeout_ms / 1000
        self._wait(lambda: self._ledger.is_acked(offset), timeout_s, abort, f"the ack of offset {offset}")

    def flush(self, abort: threading.Event | None = None) -> None:
        timeout_s = self._options.flush_timeout_ms / 1000
        self._wait(self._ledger.all_acked, timeout_s, abort, "flush")

    def close(self, abort: threading.Event | None = None) -> None:
        """Flush, then end the call; idempotent. A failed flush leaves the stream FAILED.

        Once the stream is closed or failed, the SDK's stats keep its final counts and nothing
        is left to settle at exit (a close given up by `abort` leaves it open).
        """
        try:
            self._close(abort)
        finally:
            if self.is_closed:
                arrow_lifecycle.closed(self._config, self)

    def _close(self, abort: threading.Event | None) -> None:
        if self._state in (CLOSED, FAILED):
            self._end_call()
            if self._error is not None:
                raise self._error
            return
        try:
            self.flush(abort)
        except StreamTimeoutError as error:
            self._fail(error)
            self._end_call()
            raise
        with self._cond:
            if self._state == OPENED:
                self._state = CLOSED
            self._cond.notify_all()
        self._end_call()

    def _end_call(self) -> None:
        with self._send_lock:
            call, self._call = self._call, None
            if self._writer is not None:
                self._writer.stop()
        if call is not None and self._state == FAILED:
            # Nothing more is owed to the server: do not wait for it to end the call.
            call.abort()
            call.release_if_ended()
            return
        if call is not None:
            status = call.finish(self._options.connection_timeout_ms / 1000)
            if status is not None:
                logger.debug(
                    "Arrow stream to %s: the last call ended with %s",
                    self.plan.table_name,
                    status,
                    extra=self.log_fields(),
                )

    def _wait(
        self, done: Callable[[], bool], timeout_s: float | None, abort: threading.Event | None, what: str
    ) -> None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        lack_s = self._options.server_lack_of_ack_timeout_ms / 1000
        while True:
            stalled: FlightCall | None = None
            with self._cond:
                while True:
                    if done():
                        return
                    self._raise_if_unusable(waiting=True)
                    if abort is not None and abort.is_set():
                        raise WaitAborted(what)
                    now = time.monotonic()
                    if deadline is not None and now >= deadline:
                        raise StreamTimeoutError(
                            f"{what} timed out after {timeout_s:g}s with {self._ledger.inflight} batch(es) "
                            "unacknowledged (they are kept: get_unacked_batches)"
                        )
                    lack_deadline = self._last_progress + lack_s
                    if self._state == OPENED and self._ledger.inflight and now >= lack_deadline:
                        stalled = self._call
                        break
                    limits = [lack_deadline if self._ledger.inflight else now + 1.0]
                    if deadline is not None:
                        limits.append(deadline)
                    # Bounded so an abort set without a notify is noticed.
                    self._cond.wait(max(0.0, min(*limits, now + 0.5) - now))
            if stalled is not None:  # (OPENED always has a call)
                self._recover(
                    stalled,
                    ZerobusException(
                        f"no acknowledgement from the server for {lack_s:g}s (server_lack_of_ack_timeout_ms)"
                    ),
                )

    def wake(self) -> None:
        """Make every waiter re-check its abort event."""
        with self._cond:
            self._cond.notify_all()

    def _raise_if_unusable(self, waiting: bool = False) -> None:
        if self._state == FAILED:
            assert self._error is not None
            raise self._error
        if self._state == CLOSED and not waiting:
            raise ZerobusException(f"Stream is closed: the Arrow stream to {self.plan.table_name} was closed")

    # --- the calls' reports ----------------------------------------------------------------------

    def _on_ack(self, call: FlightCall, physical: int) -> None:
        with self._cond:
            try:
                self._ledger.on_ack(call.generation or -1, physical, time.monotonic())
            except AckOutOfRange as error:
                self._fail(NonRetriableException(f"Stream is closed: {error}"))
                return
            self._last_progress = time.monotonic()
            self._cond.notify_all()

    def _on_end(self, call: FlightCall, error: BaseException | None) -> None:
        if error is None:
            error = call.final_status()
        with self._cond:
            quiet = self._state == CLOSED or (error is None and self._ledger.all_acked())
        if quiet and error is None:
            return
        failure = (
            flight_error(error, "Stream is closed")
            if error
            else ZerobusException("the server ended the call")
        )
        self._recover(call, failure)

    # --- recovery --------------------------------------------------------------------------------

    def _recover(self, broken: FlightCall, error: ZerobusException) -> None:
        with self._send_lock:
            with self._cond:
                if broken is not self._call or self._state != OPENED:
                    return  # already replaced, closed or failed
                if isinstance(error, NonRetriableException) or not self._options.recovery:
                    self._fail(error)
                    return
                self._state = RECOVERING
                self._last_error = (error.message, time.monotonic())
            broken.abort()
            broken.release_if_ended()
            logger.warning(
                "Arrow stream to %s: recovering after %s",
                self.plan.table_name,
                error,
                extra=self.log_fields(),
            )
            last: ZerobusException = error
            for attempt in range(self._options.recovery_retries):
                if attempt:
                    time.sleep(self._options.recovery_backoff_ms / 1000)
                try:
                    self._start_call(self._options.recovery_timeout_ms / 1000)
                except NonRetriableException as failure:
                    last = failure
                    break
                except ZerobusException as failure:
                    last = failure
                    continue
                with self._cond:
                    self._state = OPENED
                    self._recoveries += 1
                    self._cond.notify_all()
                return
            self._fail(ZerobusException(f"Stream is closed: recovery failed: {last}", cause=last))

    def _fail(self, error: ZerobusException) -> None:
        with self._cond:
            if self._state in (FAILED, CLOSED) and self._error is not None:
                return
            self._state = FAILED
            self._error = error
            self._last_error = (error.message, time.monotonic())
            self._cond.notify_all()
            if self._writer is not None:
                self._writer.stop()  # nothing more is written; the batches stay in the ledger
        logger.error("Arrow stream to %s failed: %s", self.plan.table_name, error, extra=self.log_fields())

    # --- questions -------------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        return self._state in (CLOSED, FAILED)

    @property
    def state(self) -> str:
        return self._state

    def unacked(self) -> list[pa.RecordBatch]:
        with self._cond:
            return self._ledger.unacked()

    @property
    def unacked_count(self) -> int:
        return self._ledger.inflight

    @property
    def table_name(self) -> str:
        return self.plan.table_name

    @property
    def flush_timeout_ms(self) -> int:
        return self._options.flush_timeout_ms

    def stats(self) -> ArrowStreamStats:
        """A snapshot of the stream's counts (rows as records, batches as requests) and ack latency."""
        with self._cond:
            message, at = self._last_error or (None, None)
            state = _STATES[self._state]
            return arrow_snapshot(self.plan.table_name, state, self._ledger, self._recoveries, message, at)

    def log_fields(self) -> dict[str, object]:
        """`extra=` for log records about this stream: table, offsets (Flight calls have no stream id)."""
        ledger = self._ledger
        return stream_log_fields(self.plan.table_name, None, ledger.next_offset - 1, ledger.acked_through)

    def _settle_at_exit(self) -> None:
        """The program ends with this stream open: flush and close it, say what was lost."""
        arrow_lifecycle.settle(self)
