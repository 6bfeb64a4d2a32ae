"""Internal: What the emulator tells a person watching it: a request log, `/health` and a stats document.

Request log: one INFO line per gRPC call (EphemeralStream, Flight DoPut) when it ends and per
HTTP request, on the ``zerobus.server.frontends.observability`` logger (``zerobus-emulator start
--log-level info`` shows it)::

    grpc /databricks.zerobus.Zerobus/EphemeralStream table=main.default.t status=CANCELLED 812.4ms
    http GET /api/2.1/unity-catalog/tables/main.default.t status=200 1.3ms

The status is the one the call ended with; clients close streams by cancelling the call, so a
stream closed normally shows CANCELLED, and a refused one its error code.

`/health` and the stats route are emulator-only, need no token and show counters only (no
data); the stats route is what `zerobus-emulator stats` prints.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from zerobus import __version__
from zerobus.protocol.constants import TABLE_NAME_HEADER

if TYPE_CHECKING:
    from zerobus.server.server_core import ServerCore

__all__ = [
    "HEALTH_PATH",
    "STATS_PATH",
    "EmulatorStatus",
    "install_grpc_request_log",
    "log_http_request",
]

logger = logging.getLogger(__name__)

HEALTH_PATH = "/health"
STATS_PATH = "/api/2.0/zerobus-emulator/stats"


def _milliseconds(started: float) -> str:
    return f"{(time.perf_counter() - started) * 1000:.1f}ms"


def log_http_request(method: str, path: str, status: int, started: float) -> None:
    """The request log line of one HTTP request (`started`: its `time.perf_counter()`)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info("http %s %s status=%d %s", method, path, status, _milliseconds(started))


def install_grpc_request_log(server: Any) -> None:
    """Log every call of a grpclib `server` when it ends: method, table header, status, duration."""
    from grpclib.events import RecvRequest, listen
    from grpclib.exceptions import GRPCError

    async def on_request(event: RecvRequest) -> None:
        handler = event.method_func
        method = event.method_name
        table = dict(event.metadata).get(TABLE_NAME_HEADER, "-")

        async def logged(stream: Any) -> None:
            started = time.perf_counter()
            status = "OK"
            try:
                await handler(stream)
            except GRPCError as error:
                status = error.status.name
                raise
            except asyncio.CancelledError:
                status = "CANCELLED"
                raise
            except Exception:
                status = "INTERNAL"
                raise
            finally:
                if logger.isEnabledFor(logging.INFO):
                    logger.info(
                        "grpc %s table=%s status=%s %s", method, table, status, _milliseconds(started)
                    )

        event.method_func = logged

    callback: Callable[[RecvRequest], Coroutine[Any, Any, None]] = on_request
    listen(server, RecvRequest, callback)


class EmulatorStatus:
    """The documents of `/health` and the stats route, read from the running server's state."""

    def __init__(self, core: ServerCore, open_streams: Callable[[], int]) -> None:
        self._core = core
        self._open_streams = open_streams
        self._started = time.monotonic()

    def health(self) -> dict[str, Any]:
        """Answered as long as the HTTP front-end runs; `unavailable_tables` lists broken tables."""
        unavailable = self._core.unavailable_tables()
        return {
            "status": "ok" if not unavailable else "degraded",
            "version": __version__,
            "uptime_s": round(time.monotonic() - self._started, 3),
            "unavailable_tables": sorted(unavailable),
        }

    def stats(self) -> dict[str, Any]:
        """Counters since start, and per table how far materialisation lags the acknowledgements."""
        stats = self._core.stats
        tables: dict[str, Any] = {}
        for table in self._core.tables():
            acknowledged = table.log.durable_seq + 1
            materialized = table.materialized_seq + 1
            tables[table.entry.full_name] = {
                "acknowledged_frames": acknowledged,
                "materialized_frames": materialized,
                "materialization_lag_frames": max(acknowledged - materialized, 0),
                "quarantined_frames": len(table.quarantine.frames()),
                "materialization_error": table.materialize_error,
            }
        for name, reason in self._core.unavailable_tables().items():
            tables[name] = {"unavailable": reason}
        return {
            "uptime_s": round(time.monotonic() - self._started, 3),
            "streams": {
                "open": self._open_streams(),
                "created": stats.streams_created,
                "rejected": stats.streams_rejected,
                "calls": stats.stream_calls,
            },
            "requests": {"received": stats.requests_received, "rejected": stats.requests_rejected},
            "records": {"received": stats.records_received, "stored": stats.records_stored},
            "bytes_received": stats.bytes_received,
            "acks": {"sent": stats.acks_sent, "paced": stats.acks_paced},
            "close_signals_sent": stats.close_signals_sent,
            "rows_materialized": stats.rows_materialized,
            "quarantined_frames": sum(stats.quarantined_frames.values()),
            "tables": dict(sorted(tables.items())),
        }
