"""OpenTelemetry metrics of streams, read back with the real OpenTelemetry SDK's in-memory reader."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver, SyncDriver
from zerobus.errors import ConfigurationError
from zerobus.sdk.shared import TableProperties
from zerobus.server import LocalZerobusServer
from zerobus.telemetry import enable_otel

metrics_sdk = pytest.importorskip("opentelemetry.sdk.metrics")
export = pytest.importorskip("opentelemetry.sdk.metrics.export")

Driver = SyncDriver | AioDriver


def collect(reader: Any, table: str) -> dict[str, float]:
    """Every zerobus metric's value for `table` in one collection."""
    values: dict[str, float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            if scope.scope.name != "zerobus":
                continue
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if point.attributes.get("zerobus.table") == table:
                        values[metric.name] = point.value
    return values


@pytest.fixture
def reader() -> Any:
    made = export.InMemoryMetricReader()
    provider = metrics_sdk.MeterProvider(metric_readers=[made])
    handle = enable_otel(provider)
    yield made
    handle.disable()
    provider.shutdown()


def test_stream_metrics_are_observed_per_table_and_survive_the_stream_closing(
    driver: Driver, zerobus_server: LocalZerobusServer, events_table: str, reader: Any
) -> None:
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i, "name": "n"} for i in range(40)])
    stream.flush()
    stats = stream.stats()
    values = collect(reader, events_table)
    assert values["zerobus.stream.records.ingested"] == 40
    assert values["zerobus.stream.records.acknowledged"] == 40
    assert values["zerobus.stream.records.queued"] == values["zerobus.stream.records.in_flight"] == 0
    assert values["zerobus.stream.bytes.acknowledged"] == stats.acknowledged_bytes > 0
    assert values["zerobus.stream.bytes.sent"] == stats.sent_bytes
    assert values["zerobus.stream.requests.sent"] == stats.sent_requests
    assert values["zerobus.stream.recoveries"] == 0
    assert values["zerobus.streams.open"] == 1
    assert values["zerobus.stream.ack_latency.p50"] == stats.ack_latency_p50_s
    assert values["zerobus.stream.ack_latency.p99"] == stats.ack_latency_p99_s

    stream.close()
    values = collect(reader, events_table)
    # Counters never go down: the closed stream stays in the totals.
    assert values["zerobus.stream.records.acknowledged"] == 40
    assert values["zerobus.streams.open"] == 0
    assert "zerobus.stream.ack_latency.p50" not in values  # no open stream, no latency window


def test_enabling_twice_on_one_provider_registers_the_instruments_once() -> None:
    provider = metrics_sdk.MeterProvider(metric_readers=[export.InMemoryMetricReader()])
    first = enable_otel(provider)
    first.disable()
    again = enable_otel(provider)
    assert again is first and again.enabled
    assert "zerobus.stream.records.acknowledged" in again.instrument_names
    provider.shutdown()


def test_without_opentelemetry_enabling_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # The package cannot be uninstalled for one test: hide it from the import system instead.
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ConfigurationError, match=r"opentelemetry-api.*zerobus-toolkit\[otel\]"):
        enable_otel()


@pytest.mark.parametrize("provider", ["prometheus", 42, object()])
def test_something_that_is_no_meter_provider_is_refused_naming_it(provider: Any) -> None:
    with pytest.raises(
        ConfigurationError, match=r"meter_provider must be an OpenTelemetry MeterProvider.*got "
    ):
        enable_otel(provider)


def test_disabled_instruments_report_nothing(zerobus_server: LocalZerobusServer, events_table: str) -> None:
    reader = export.InMemoryMetricReader()
    provider = metrics_sdk.MeterProvider(metric_readers=[reader])
    handle = enable_otel(provider)
    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        with driver.create_stream(
            zerobus_server.client_id,
            zerobus_server.client_secret,
            TableProperties(events_table),
            fast_options(),
        ) as stream:
            stream.ingest_record_offset({"id": 1})
            stream.flush()
            assert collect(reader, events_table)["zerobus.stream.records.acknowledged"] == 1
            handle.disable()
            assert collect(reader, events_table) == {}
    finally:
        driver.close()
        provider.shutdown()
