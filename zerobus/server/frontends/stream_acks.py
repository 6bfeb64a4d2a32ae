"""Internal: The sending half of a stream call: acks for what became durable, close signals, the final status.

The log's commit thread wakes the call (through `StreamRegistry.on_durable`); each wake-up sends
at most one cumulative ack, for the requests whose frames are on disk, delayed or withheld as
the faults say and paced by the stream rate limit. Requests the log failed to write are never
acknowledged: the call ends with UNAVAILABLE naming the first of them.
"""

from __future__ import annotations

import logging

import grpc
from grpclib.exceptions import GRPCError

from zerobus.protocol import CloseStreamSignal, EphemeralStreamResponse, IngestRecordResponse
from zerobus.server.faults import CallEnding
from zerobus.server.frontends.stream_state import LIFETIME_ERROR, StreamCallState, grpc_status, status_text

__all__ = ["StreamAcks"]

logger = logging.getLogger(__name__)


class StreamAcks(StreamCallState):
    """Acks, close signals and the end of a call (its send loop runs until the final status)."""

    def signal_close(self, duration_s: float) -> None:
        """Send CloseStreamSignal(duration) now; end the call with 6002 after `duration_s`."""
        seconds = int(duration_s)
        nanos = round((duration_s - seconds) * 1e9)
        signal = CloseStreamSignal()
        signal.duration.seconds = seconds
        signal.duration.nanos = nanos
        self._close_signals.append(EphemeralStreamResponse(close_stream_signal=signal).SerializeToString())
        self._timers.append(
            self.loop.call_later(
                duration_s,
                self._end_immediately,
                CallEnding(grpc.StatusCode.UNAVAILABLE, LIFETIME_ERROR, False),
            )
        )
        self.wake()

    def _arm_lifetime(self) -> None:
        """Signal the close ahead of the configured stream lifetime's end (none: no timer)."""
        config = self.core.config
        lifetime = config.max_stream_duration_s
        if lifetime is not None:
            lead = min(config.close_signal_lead_s, lifetime)
            self._timers.append(self.loop.call_later(lifetime - lead, self.signal_close, lead))

    async def _send_loop(self) -> None:
        faults = self.core.faults
        stats = self.core.stats
        assert self.table is not None
        log = self.table.log
        while True:
            await self._event.wait()
            self._event.clear()
            while self._close_signals:
                await self.stream.send_message(self._close_signals.pop(0))
                stats.close_signals_sent += 1
            if self._end_now is not None:
                await self._finish(self._end_now)
                return
            durable = log.durable_seq
            if log.write_failures != self._write_failures_seen:
                self._note_write_failures()
                durable = log.durable_seq  # frames written before the failure count as durable
            failed_seq = self._failed_seq
            now = self.loop.time()
            delay = faults.ack_delay_s
            pending, ready = self._pending, self._ready
            while pending and pending[0][0] <= durable and (failed_seq is None or pending[0][0] < failed_seq):
                ready.append((now + delay, pending.popleft()[1]))
            ack_to = -1
            if not faults.acks_withheld:
                while ready and ready[0][0] <= now:
                    ack_to = ready.popleft()[1]
                if ready:
                    if self._ack_timer is not None:
                        self._ack_timer.cancel()
                    self._ack_timer = self.loop.call_at(ready[0][0], self.wake)
                if self._pacer is not None:
                    ack_to = self._pace(ack_to)
            if ack_to > self._acked:
                self._acked = ack_to
                await self.stream.send_message(self._ack_message(ack_to))
                stats.acks_sent += 1
            if self._failed_ending is not None:
                await self._finish(self._failed_ending)
                return
            if (
                self._end_with is not None
                and self._end_after_seq is not None
                and durable >= self._end_after_seq
            ):
                await self._finish(self._end_with)
                return
            if self._client_done and not pending and not ready and not self._pacer_holding:
                return  # half-closed by the client and everything acknowledged: status OK

    def _pace(self, due_to: int) -> int:
        """How far the ack may go now under the stream rate limit (requests up to `due_to` are due)."""
        assert self._pacer is not None
        self._pacer.make_eligible(due_to)
        released, retry_in = self._pacer.release()
        if retry_in is not None:
            self.core.stats.acks_paced += 1
            if self._pace_timer is not None:
                self._pace_timer.cancel()
            self._pace_timer = self.loop.call_later(retry_in, self.wake)
        return released

    @property
    def _pacer_holding(self) -> bool:
        return self._pacer is not None and self._pacer.holding

    def _ack_message(self, ack_to: int) -> bytes:
        """The serialized cumulative ack for every request up to offset `ack_to`."""
        response = EphemeralStreamResponse(
            ingest_record_response=IngestRecordResponse(durability_ack_up_to_offset=ack_to)
        )
        data: bytes = response.SerializeToString()
        return data

    def _note_write_failures(self) -> None:
        """Find the first of this call's unacknowledged requests the log failed to write."""
        assert self.table is not None
        log = self.table.log
        seen = self._write_failures_seen
        self._write_failures_seen = log.write_failures
        failures = log.failures_since(seen)
        for seq, offset in self._pending:
            if self._failed_seq is not None and seq >= self._failed_seq:
                break
            failure = (
                next((f for f in failures if f.first_seq <= seq <= f.last_seq), None) if failures else None
            )
            if failures is None or failure is not None:
                reason = failure.error if failure is not None else "several log writes failed"
                self._failed_seq = seq
                self._failed_ending = CallEnding(
                    grpc.StatusCode.UNAVAILABLE,
                    f"the server could not write the request at offset {offset} to disk ({reason}); it and "
                    "the requests after it were not acknowledged: retry them on a new stream",
                    store=False,
                )
                self.wake()
                return

    async def _finish(self, ending: CallEnding) -> None:
        if ending.code is None:
            try:
                await self.stream.cancel()
            except Exception as error:  # the connection may be gone already
                logger.debug("call %d: cancel failed: %r", self.id, error)
            return
        raise GRPCError(grpc_status(ending.code), status_text(ending.message))
