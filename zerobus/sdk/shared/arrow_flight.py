"""Internal: One Arrow Flight `DoPut` call (docs/PROTOCOL.md section 9), over pyarrow's own Flight client.

`FlightCall.open` starts the call with the stream's headers and schema and a reader thread that
hands every `PutResult` (`{"ack_up_to_offset": N, ...}`) and the call's end to the stream. The
first result must be the ready signal: `wait_ready` returns once it came, and raises the call's
status if the call ended first (bad token, unknown table, a schema the table cannot take).
Writing is the caller's (one writer at a time); the reader never writes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable

import pyarrow as pa
from pyarrow import flight

from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol.flight import ACK_UP_TO_OFFSET, OFFSET_ID
from zerobus.sdk.shared.headers_provider import TABLE_NAME_HEADER

__all__ = ["FlightCall", "flight_error"]

logger = logging.getLogger(__name__)

# grpc status numbers whose failures retrying cannot fix (docs/PROTOCOL.md section 3).
_NON_RETRYABLE = {3: "INVALID_ARGUMENT", 5: "NOT_FOUND", 7: "PERMISSION_DENIED", 11: "OUT_OF_RANGE",
                  12: "UNIMPLEMENTED", 16: "UNAUTHENTICATED"}  # fmt: skip
_NON_RETRYABLE_ERRORS: dict[type[BaseException], str] = {
    flight.FlightUnauthenticatedError: "UNAUTHENTICATED",
    flight.FlightUnauthorizedError: "PERMISSION_DENIED",
    pa.ArrowInvalid: "INVALID_ARGUMENT",
    pa.ArrowKeyError: "NOT_FOUND",
    pa.ArrowNotImplementedError: "UNIMPLEMENTED",
}


def flight_error(error: BaseException, context: str) -> ZerobusException:
    """A Flight failure in our tree: non-retryable for the codes of PROTOCOL section 3."""
    if isinstance(error, ZerobusException):
        return error
    text = str(error).split(". gRPC client debug context", 1)[0].split(". Detail:", 1)[0]
    status = re.search(r"grpc_status:(\d+)", str(error))
    code = None
    if status is not None and int(status.group(1)) in _NON_RETRYABLE:
        code = _NON_RETRYABLE[int(status.group(1))]
    for kind, name in _NON_RETRYABLE_ERRORS.items():
        if code is None and isinstance(error, kind):
            code = name
    if code is not None:
        return NonRetriableException(f"{context}: {code}: {text}", cause=error)
    return ZerobusException(f"{context}: {text}", cause=error)


class FlightCall:
    """A `DoPut` call: the writer for the caller, a reader thread reporting acks and the end."""

    def __init__(
        self,
        location: str,
        tls_roots: bytes | None,
        user_agent: str,
        headers: list[tuple[str, str]],
        table_name: str,
        schema: pa.Schema,
        compression: str | None,
    ) -> None:
        self.generation: int | None = None  # set by the stream once the call carries its batches
        self._ready = threading.Event()
        self._ended: BaseException | None = None
        self._finished = threading.Event()
        self._settled = threading.Event()  # ready, or ended before it was
        self._closing = threading.Lock()
        self._abandoned = False  # no more writes: the reader releases the call when it ends
        self._write_lock = threading.Lock()  # one write, half-close or close of the writer at a time
        self._half_closed = False
        self._status: tuple[BaseException | None] | None = None
        self._on_ack: Callable[[FlightCall, int], None] | None = None
        self._on_end: Callable[[FlightCall, BaseException | None], None] | None = None
        kwargs: dict[str, object] = {"generic_options": [("grpc.primary_user_agent", user_agent)]}
        if tls_roots is not None:
            kwargs["tls_root_certs"] = tls_roots
        self._client = flight.connect(location, **kwargs)
        # The table header is authoritative: a headers provider's own is replaced by the stream's.
        pairs = [(key, value) for key, value in headers if key not in (TABLE_NAME_HEADER, "user-agent")]
        pairs.append((TABLE_NAME_HEADER, table_name))
        write_options = pa.ipc.IpcWriteOptions(compression=compression) if compression else None
        options = flight.FlightCallOptions(
            headers=[(key.encode(), value.encode()) for key, value in pairs], write_options=write_options
        )
        try:
            self._writer, self._reader = self._client.do_put(
                flight.FlightDescriptor.for_path(""), schema, options
            )
        except BaseException:
            self._client.close()
            raise
        self._thread = threading.Thread(target=self._read_results, name="zerobus-arrow-acks", daemon=True)

    @classmethod
    def open(
        cls,
        location: str,
        tls_roots: bytes | None,
        user_agent: str,
        headers: list[tuple[str, str]],
        table_name: str,
        schema: pa.Schema,
        compression: str | None,
        on_ack: Callable[[FlightCall, int], None],
        on_end: Callable[[FlightCall, BaseException | None], None],
    ) -> FlightCall:
        try:
            call = cls(location, tls_roots, user_agent, headers, table_name, schema, compression)
        except (flight.FlightError, pa.ArrowException) as error:
            raise flight_error(error, "Failed to create stream") from error
        call._on_ack, call._on_end = on_ack, on_end
        call._thread.start()
        return call

    def wait_ready(self, timeout_s: float) -> None:
        """Return once the server's ready signal came; raise the call's end or a timeout otherwise."""
        if not self._settled.wait(timeout_s):
            self.abort()
            raise ZerobusException(
                f"Failed to create stream: no ready signal from the server within {timeout_s:g}s"
            )
        if not self._ready.is_set():
            # The call ended before it was ready: release the writer, then the client, now, so
            # that neither is left for pyarrow's destructors to close (and complain about).
            status = self.final_status()
            error = self._ended or status
            raise flight_error(
                error or ZerobusException("the server ended the call"), "Failed to create stream"
            )

    def send(self, batch: pa.RecordBatch, offset: int) -> None:
        """Write `batch` with its physical offset in `app_metadata` (blocks under gRPC flow control).

        A call already abandoned takes nothing more: the stream resends what it did not get.
        """
        metadata = pa.py_buffer(
            f'{{"{OFFSET_ID}":{offset}}}'.encode()
        )  # compact JSON, as the service reads it
        with self._write_lock:
            if not self._half_closed:
                self._writer.write_with_metadata(batch, metadata)

    def write_failure(self, error: BaseException, timeout_s: float) -> ZerobusException:
        """Why a write failed: the call's own status once it ended (a write only sees "closed")."""
        self._finished.wait(timeout_s)
        ended = self._ended or (self.final_status() if self._finished.is_set() else None)
        if ended is not None:
            return flight_error(ended, "Stream is closed")
        # The call's end may have reached the write before its reader: a write refused with a
        # definite status (not pyarrow's bare "already closed") carries that status itself.
        own = flight_error(error, "Stream is closed")
        if isinstance(own, NonRetriableException) and "already closed" not in str(error):
            return own
        return ZerobusException(f"sending a batch failed: {error}", cause=error)

    def abort(self) -> None:
        """Stop sending on this call; the server ends it (its acks no longer matter).

        Nothing is written to the call afterwards, so once it ends the reader thread closes the
        writer and the client itself: pyarrow offers no way to cancel a call, and waiting here
        for a server that may never end it would hold up the caller.
        """
        self._abandoned = True
        with self._write_lock:
            if self._half_closed:
                return
            self._half_closed = True
            with contextlib.suppress(flight.FlightError, pa.ArrowException, OSError):
                self._writer.done_writing()

    def release_if_ended(self) -> None:
        """Close the writer and the client of a call that already ended (no write may be running)."""
        if self._finished.is_set():
            self.final_status()

    def finish(self, timeout_s: float) -> BaseException | None:
        """Half-close, wait for the server to end the call; its failure status, if any."""
        self.abort()
        if not self._finished.wait(timeout_s):
            return ZerobusException(f"the server did not end the call within {timeout_s:g}s")
        return self._ended or self.final_status()

    def final_status(self) -> BaseException | None:
        """The call's status once it ended (None = OK); closes the client (once)."""
        with self._closing:
            if self._status is None:
                try:
                    with self._write_lock:  # a write still running returns: the call has ended
                        self._writer.close()
                    self._status = (None,)
                except (flight.FlightError, pa.ArrowException, OSError) as error:
                    self._status = (error,)
                with contextlib.suppress(flight.FlightError, pa.ArrowException, OSError):
                    self._client.close()
            return self._status[0]

    def _read_results(self) -> None:
        error: BaseException | None = None
        try:
            while True:
                buffer = self._reader.read()
                if buffer is None:
                    break
                ack = json.loads(buffer.to_pybytes())
                up_to = int(ack[ACK_UP_TO_OFFSET])
                if up_to < 0:
                    self._ready.set()
                    self._settled.set()
                elif self._on_ack is not None:
                    self._on_ack(self, up_to)
        except (flight.FlightError, pa.ArrowException, OSError, ValueError, KeyError, TypeError) as failure:
            error = failure
        self._ended = error
        self._finished.set()
        self._settled.set()
        logger.debug("Arrow Flight call ended: %s", error or "OK")
        if self._ready.is_set() and self._on_end is not None:
            self._on_end(self, error)
        if self._abandoned:
            self.final_status()
