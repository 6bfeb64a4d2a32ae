"""The public API is pinned: names, signatures, defaults and argument handling of the official SDK."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import zerobus
from zerobus.errors import ConfigurationError, NonRetriableException, ZerobusException
from zerobus.sdk import aio, shared, sync
from zerobus.sdk.shared import (
    AckCallback,
    HeadersProvider,
    OAuthHeadersProvider,
    RecordType,
    StreamConfigurationOptions,
    StreamState,
    TableProperties,
)
from zerobus.sdk.shared.stream_plan import SdkConfig, create_stream_arguments

SHARED = [
    "AckCallback",
    "FederatedToken",
    "HeadersProvider",
    "IdpTokenSupplier",
    "IngestRecordResponse",
    "NonRetriableException",
    "OAuthHeadersProvider",
    "RecordType",
    "StreamConfigurationOptions",
    "StreamState",
    "StreamTimeoutError",
    "TableProperties",
    "ZerobusException",
]
DRIVER = ["RecordAcknowledgment", "ZerobusArrowStream", "ZerobusSdk", "ZerobusStream"]
STREAM_METHODS = [
    "ingest_record",
    "ingest_record_offset",
    "ingest_record_nowait",
    "ingest_records_offset",
    "ingest_records_nowait",
    "wait_for_offset",
    "flush",
    "close",
    "get_state",
    "get_unacked_records",
    "get_unacked_batches",
]


def test_all_lists_are_pinned() -> None:
    assert sorted(shared.__all__) == SHARED
    assert sorted(sync.__all__) == sorted(SHARED + DRIVER)
    assert sorted(aio.__all__) == sorted(SHARED + DRIVER)
    arrow_options = ["ArrowStreamConfigurationOptions", "IPCCompression"]  # top level, as the official
    assert sorted(zerobus.__all__) == sorted([*SHARED, *DRIVER, *arrow_options, "__version__"])
    assert sorted(zerobus.sdk.__all__) == sorted(SHARED + DRIVER)
    for module in (zerobus, zerobus.sdk, shared, sync, aio):
        for name in module.__all__:
            assert getattr(module, name) is not None
    assert zerobus.ZerobusSdk is sync.ZerobusSdk and zerobus.TableProperties is TableProperties


@pytest.mark.parametrize("module", [sync, aio], ids=["sync", "aio"])
def test_stream_and_sdk_signatures(module: Any) -> None:
    for name in STREAM_METHODS:
        assert callable(getattr(module.ZerobusStream, name)), name
    assert isinstance(inspect.getattr_static(module.ZerobusStream, "stream_id"), property)
    create = inspect.signature(module.ZerobusSdk.create_stream)
    assert list(create.parameters)[1:] == [
        "client_id",
        "client_secret",
        "table_properties",
        "options",
        "headers_provider",
        "auth",
    ]
    assert create.parameters["auth"].kind is inspect.Parameter.KEYWORD_ONLY  # as in the official SDK
    init = inspect.signature(module.ZerobusSdk.__init__)
    assert list(init.parameters)[1:5] == [
        "host",
        "unity_catalog_url",
        "application_name",
        "connection_per_stream",
    ]
    assert {"server_endpoint", "unity_catalog_endpoint"} <= set(init.parameters)
    for name in ("create_stream_with_headers_provider", "recreate_stream"):
        assert callable(getattr(module.ZerobusSdk, name))
    wait = inspect.signature(module.ZerobusStream.wait_for_offset)
    assert list(wait.parameters)[1:] == ["offset", "timeout_sec"]
    # The official names, so keyword calls written for it work: payload= / payloads=.
    for name in ("ingest_record", "ingest_record_offset", "ingest_record_nowait"):
        assert list(inspect.signature(getattr(module.ZerobusStream, name)).parameters)[1:] == ["payload"]
    for name in ("ingest_records_offset", "ingest_records_nowait"):
        assert list(inspect.signature(getattr(module.ZerobusStream, name)).parameters)[1:] == ["payloads"]


def test_aio_methods_are_awaitable_where_the_official_ones_are() -> None:
    for name in (
        "ingest_record",
        "ingest_record_offset",
        "ingest_records_offset",
        "wait_for_offset",
        "flush",
        "close",
        "get_unacked_records",
        "get_unacked_batches",
    ):
        assert inspect.iscoroutinefunction(getattr(aio.ZerobusStream, name)), name
    for name in ("ingest_record_nowait", "ingest_records_nowait", "get_state"):
        assert not inspect.iscoroutinefunction(getattr(aio.ZerobusStream, name)), name
    assert inspect.iscoroutinefunction(aio.ZerobusSdk.create_stream)


def test_sdk_endpoints_positional_and_keyword() -> None:
    by_position = sync.ZerobusSdk(
        "1234.zerobus.us-west-2.cloud.databricks.com", "https://ws.cloud.databricks.com"
    )
    assert by_position.server_endpoint == "https://1234.zerobus.us-west-2.cloud.databricks.com"
    by_keyword = aio.ZerobusSdk(
        server_endpoint="http://127.0.0.1:9999", unity_catalog_endpoint="http://localhost:8080/"
    )
    assert by_keyword.server_endpoint == "http://127.0.0.1:9999"
    assert by_keyword.unity_catalog_endpoint == "http://localhost:8080"
    with pytest.raises(ConfigurationError, match="server endpoint"):
        sync.ZerobusSdk("ftp://nope", "https://ws")


def test_credentials_never_go_in_clear_text_to_remote_hosts() -> None:
    sdk = sync.ZerobusSdk("http://zerobus.example.com", "https://ws.example.com")
    with pytest.raises(ConfigurationError, match="plaintext"):
        sdk.create_stream("id", "secret", TableProperties("a.b.c"))
    config = SdkConfig("https://1234.zerobus.example.com", "https://ws.example.com", "my-app/2.0")
    assert config.channel_credentials() is not None
    assert config.user_agent.startswith("zerobus-toolkit-py/") and config.user_agent.endswith(" my-app/2.0")
    options = dict(config.channel_options())
    assert options["grpc.max_send_message_length"] == -1 and options["grpc.max_receive_message_length"] == -1
    assert SdkConfig("http://127.0.0.1:1", "http://127.0.0.1:2").channel_credentials() is None


def test_create_stream_accepts_both_official_argument_orders() -> None:
    table = TableProperties("main.default.events")
    options = StreamConfigurationOptions(recovery=False)
    wrapper_order = create_stream_arguments("id", "secret", table, options, None)
    core_order = create_stream_arguments(table, "id", "secret", options, None)
    assert wrapper_order == core_order == (table, options, None, ("id", "secret"))
    provider = HeadersProvider()
    assert create_stream_arguments(None, None, table, None, provider)[2] is provider
    # create_stream_with_headers_provider in the official core's order: (table_properties, provider).
    assert create_stream_arguments(None, None, provider, None, table)[:3] == (
        table,
        StreamConfigurationOptions(),
        provider,
    )
    with pytest.raises(ConfigurationError, match="client_id and client_secret"):
        create_stream_arguments(None, None, table, None, None)
    with pytest.raises(ConfigurationError, match="TableProperties"):
        create_stream_arguments("id", "secret", "main.default.events", None, None)


def test_table_properties() -> None:
    plain = TableProperties("main.default.events")
    assert plain.table_name == "main.default.events" and plain.descriptor is None
    marker = object()
    # The official positional name, so `TableProperties(name, descriptor_proto=...)` binds alike.
    assert list(inspect.signature(TableProperties).parameters)[:2] == ["table_name", "descriptor_proto"]
    assert TableProperties("a.b.c", descriptor_proto=marker).descriptor is marker
    assert TableProperties("a.b.c", marker).descriptor_proto is marker
    assert TableProperties("a.b.c", descriptor=marker).descriptor_proto is marker
    with pytest.raises(ConfigurationError, match="either"):
        TableProperties("a.b.c", marker, descriptor=marker)
    for bad in ("events", "a.b", "a.b.c.d", "a..c", "a.b-c.d"):
        with pytest.raises(ConfigurationError, match=r"catalog.schema.table"):
            TableProperties(bad)


def test_options_defaults_are_the_protocol_ones() -> None:
    options = StreamConfigurationOptions()
    assert options.max_inflight_records == 50_000
    assert options.recovery is True
    assert options.recovery_timeout_ms == 15_000
    assert options.recovery_backoff_ms == 2_000
    assert options.recovery_retries == 3
    assert options.flush_timeout_ms == 300_000
    assert options.server_lack_of_ack_timeout_ms == 60_000
    assert options.ack_callback is None
    assert options.record_type is RecordType.PROTO
    assert options.stream_paused_max_wait_time_ms is None
    assert options.callback_max_wait_time_ms == 5_000


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_inflight_records", 0, "max_inflight_records must be >= 1, got 0"),
        ("max_inflight_records", 1.5, "max_inflight_records must be an integer, got 1.5"),
        ("recovery_retries", -1, "recovery_retries must be >= 0"),
        ("recovery_timeout_ms", True, "recovery_timeout_ms must be an integer, got True"),
        ("flush_timeout_ms", 0, "flush_timeout_ms must be >= 1"),
        ("server_lack_of_ack_timeout_ms", "60", "server_lack_of_ack_timeout_ms must be an integer"),
        ("recovery_backoff_ms", -5, "recovery_backoff_ms must be >= 0, got -5"),
        ("stream_paused_max_wait_time_ms", -1, "stream_paused_max_wait_time_ms must be >= 0"),
        ("callback_max_wait_time_ms", "x", "callback_max_wait_time_ms must be an integer"),
        ("recovery", 1, "recovery must be True or False"),
        ("record_type", "arrow", "record_type must be RecordType"),
        ("ack_callback", AckCallback, "not the class"),
        ("ack_callback", 42, "AckCallback instance or a callable"),
    ],
)
def test_options_are_validated_at_construction(option: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")) as raised:
        StreamConfigurationOptions(**{option: value})
    assert isinstance(raised.value, ValueError)


def test_options_are_keyword_only_and_coerce_record_types() -> None:
    options = StreamConfigurationOptions(record_type="json")
    assert options.record_type is RecordType.JSON
    assert StreamConfigurationOptions(record_type=0).record_type is RecordType.UNSPECIFIED
    with pytest.raises(TypeError):
        StreamConfigurationOptions(1000)  # type: ignore[misc]
    changed = options.replace(recovery_retries=7)
    assert changed.recovery_retries == 7 and changed.record_type is RecordType.JSON
    with pytest.raises(ConfigurationError, match="no option"):
        options.replace(retries=1)


def test_record_type_and_state_values() -> None:
    assert [(t.name, int(t)) for t in RecordType] == [
        ("UNSPECIFIED", 0),
        ("PROTO", 1),
        ("JSON", 2),
        ("AVRO", 4),
    ]
    assert StreamState.OPENED.value == 1 and StreamState.FAILED.value == 5


def test_exceptions_and_callback_bases() -> None:
    assert issubclass(NonRetriableException, ZerobusException)
    assert ZerobusException("x", cause=KeyError("k")).cause is not None
    AckCallback().on_ack(1)
    AckCallback().on_error(1, "message")
    with pytest.raises(NotImplementedError):
        HeadersProvider().get_headers()
    with pytest.raises(ConfigurationError):
        OAuthHeadersProvider("123", "https://ws.example.com", "a.b.c", "", "secret")
    with pytest.raises(ConfigurationError, match="plaintext"):
        OAuthHeadersProvider("123", "http://ws.example.com", "a.b.c", "id", "secret")


def test_call_headers_are_checked_and_completed() -> None:
    from zerobus.sdk.shared.headers_provider import normalize_headers

    headers = normalize_headers([("Authorization", "Bearer t"), ("X-Custom", "1")], "a.b.c", "sdk/1")
    assert headers == [
        ("authorization", "Bearer t"),
        ("x-custom", "1"),
        ("x-databricks-zerobus-table-name", "a.b.c"),
        ("x-zerobus-sdk", "sdk/1"),
    ]
    with pytest.raises(ConfigurationError, match="no 'authorization'"):
        normalize_headers([("x-databricks-zerobus-table-name", "a.b.c")], "a.b.c", "sdk/1")
    with pytest.raises(ConfigurationError, match=r"\(str, str\) pair"):
        normalize_headers([("authorization", 5)], "a.b.c", "sdk/1")  # type: ignore[list-item]


def test_streams_of_one_sdk_share_its_channel_without_connection_per_stream(
    zerobus_server: Any, zerobus_table: Any
) -> None:
    table = zerobus_table("id BIGINT NOT NULL")
    sdk = sync.ZerobusSdk(
        zerobus_server.grpc_endpoint, zerobus_server.workspace_url, connection_per_stream=False
    )
    first = sdk.create_stream(zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table))
    channel = sdk._config.channels.shared
    second = sdk.create_stream(zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table))
    assert channel is not None and sdk._config.channels.shared is channel
    first.ingest_record_offset({"id": 1})
    second.ingest_record_offset({"id": 2})
    first.close()
    second.close()
    sdk.close()
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == [1, 2]
