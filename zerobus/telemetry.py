"""Stream metrics: the stats types, and OpenTelemetry instruments that read them.

`stream.stats()` gives one stream's `StreamStats`; `sdk.stats()` and `pool.stats()` the sums
(`AggregateStats`). `enable_otel()` is the one hook for OpenTelemetry: it registers observable
instruments that read every SDK object's stats, summed per table, whenever the application's
metric reader collects. Nothing is recorded as records flow, so metrics cost nothing between
collections. It needs the ``otel`` extra (``opentelemetry-api``); the application brings the
OpenTelemetry SDK and its exporters, as OpenTelemetry intends for libraries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from zerobus.engine.stats import ACK_LATENCY_WINDOW, StreamStats
from zerobus.errors import ConfigurationError
from zerobus.sdk.shared.stats_ledger import AggregateStats, all_ledgers, stats_by_table

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter, MeterProvider

__all__ = ["ACK_LATENCY_WINDOW", "METER_NAME", "AggregateStats", "OtelMetrics", "StreamStats", "enable_otel"]

logger = logging.getLogger(__name__)

METER_NAME = "zerobus"
TABLE_ATTRIBUTE = "zerobus.table"

# (name, kind, unit, description, how to read it from a table's AggregateStats). Counters only
# grow (closed streams stay in the totals); up-down counters and gauges are the present state.
_COUNTER, _UP_DOWN, _GAUGE = "counter", "up_down_counter", "gauge"
_INSTRUMENTS: list[tuple[str, str, str, str, Callable[[AggregateStats], float | None]]] = [
    ("zerobus.stream.records.ingested", _COUNTER, "{record}", "Records accepted by ingest calls", lambda s: s.ingested_records),
    ("zerobus.stream.records.acknowledged", _COUNTER, "{record}", "Records acknowledged as durable", lambda s: s.acknowledged_records),
    ("zerobus.stream.records.queued", _UP_DOWN, "{record}", "Records waiting to be sent or resent", lambda s: s.queued_records),
    ("zerobus.stream.records.in_flight", _UP_DOWN, "{record}", "Records sent and not yet acknowledged", lambda s: s.in_flight_records),
    ("zerobus.stream.requests.sent", _COUNTER, "{request}", "Requests sent, resends included", lambda s: s.sent_requests),
    ("zerobus.stream.bytes.sent", _COUNTER, "By", "Size of the records sent, resends included", lambda s: s.sent_bytes),
    ("zerobus.stream.bytes.acknowledged", _COUNTER, "By", "Size of the records acknowledged", lambda s: s.acknowledged_bytes),
    ("zerobus.stream.recoveries", _COUNTER, "{recovery}", "Server calls reopened after the first", lambda s: s.recoveries),
    ("zerobus.streams.open", _UP_DOWN, "{stream}", "Streams neither closed nor failed", lambda s: s.open_streams),
    ("zerobus.stream.ack_latency.p50", _GAUGE, "s", "Median seconds from request to acknowledgment", lambda s: s.ack_latency_p50_s),
    ("zerobus.stream.ack_latency.p99", _GAUGE, "s", "99th percentile seconds from request to acknowledgment", lambda s: s.ack_latency_p99_s),
]  # fmt: skip


class OtelMetrics:
    """The instruments `enable_otel()` registered on one meter provider; `disable()` silences them."""

    def __init__(self, meter: Meter) -> None:
        self.enabled = True
        self.instrument_names = [spec[0] for spec in _INSTRUMENTS]
        for name, kind, unit, description, read in _INSTRUMENTS:
            create = {
                _COUNTER: meter.create_observable_counter,
                _UP_DOWN: meter.create_observable_up_down_counter,
                _GAUGE: meter.create_observable_gauge,
            }[kind]
            create(name, callbacks=[self._callback(read)], unit=unit, description=description)

    def disable(self) -> None:
        """Stop reporting (OpenTelemetry cannot unregister instruments: they report nothing)."""
        self.enabled = False

    def _callback(self, read: Callable[[AggregateStats], float | None]) -> Callable[[Any], Iterable[Any]]:
        from opentelemetry.metrics import Observation

        def observe(options: Any) -> Iterable[Any]:
            if not self.enabled:
                return []
            observations = []
            for table, stats in stats_by_table(all_ledgers()).items():
                value = read(stats)
                if value is not None:
                    observations.append(Observation(value, {TABLE_ATTRIBUTE: table}))
            return observations

        return observe


_registered: dict[int, tuple[Any, OtelMetrics]] = {}
_registered_lock = threading.Lock()


def enable_otel(meter_provider: MeterProvider | None = None) -> OtelMetrics:
    """Report the stats of every stream in the process as OpenTelemetry metrics, per table.

    `meter_provider`: an OpenTelemetry `MeterProvider` (default: the global one, so call this
    after the application set it up). Calling it again for the same provider returns the same
    instruments, enabled again. Raises `ConfigurationError` without ``opentelemetry-api``.
    """
    try:
        from opentelemetry import metrics
    except ImportError as missing:
        raise ConfigurationError(
            "OpenTelemetry metrics need opentelemetry-api: pip install 'zerobus-toolkit[otel]'", cause=missing
        ) from missing
    from zerobus import __version__

    provider = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    if not callable(getattr(provider, "get_meter", None)):
        raise ConfigurationError(
            f"meter_provider must be an OpenTelemetry MeterProvider (with get_meter()), got {provider!r}"
        )
    with _registered_lock:
        known = _registered.get(id(provider))
        if known is not None and known[0] is provider:
            known[1].enabled = True
            return known[1]
        handle = OtelMetrics(provider.get_meter(METER_NAME, __version__))
        _registered[id(provider)] = (provider, handle)
    logger.debug("zerobus stream metrics registered on %r", provider)
    return handle
