"""`StreamConfigurationOptions` is mutable, as the official SDK's is (v0.2-era suites set fields
in setUp), and every assignment is checked like a constructor keyword; unknown names are refused
with the closest valid one. A stream keeps the options it was created with.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.conftest import fast_options
from zerobus.errors import ConfigurationError, UnknownOptionError
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties

VALID = [
    ("max_inflight_records", 10),
    ("recovery", False),
    ("recovery_timeout_ms", 1),
    ("recovery_backoff_ms", 0),
    ("recovery_retries", 0),
    ("flush_timeout_ms", 5_000),
    ("server_lack_of_ack_timeout_ms", 1_000),
    ("stream_paused_max_wait_time_ms", 0),
    ("stream_paused_max_wait_time_ms", None),
    ("callback_max_wait_time_ms", None),
    ("timestamp_unit", "ms"),
    ("date_unit", "days"),
]
INVALID = [
    ("max_inflight_records", 0, "max_inflight_records must be >= 1, got 0"),
    ("max_inflight_records", -1, "max_inflight_records must be >= 1, got -1"),
    ("max_inflight_records", None, "max_inflight_records must be an integer, got None"),
    ("recovery_timeout_ms", -5, "recovery_timeout_ms must be >= 1, got -5"),
    ("flush_timeout_ms", -1, "flush_timeout_ms must be >= 1, got -1"),
    ("flush_timeout_ms", 2.5, "flush_timeout_ms must be an integer, got 2.5"),
    ("recovery_backoff_ms", -1, "recovery_backoff_ms must be >= 0, got -1"),
    ("callback_max_wait_time_ms", -1, "callback_max_wait_time_ms must be >= 0, got -1"),
    ("recovery", "yes", "recovery must be True or False, got 'yes'"),
    ("record_type", "xml", "record_type must be RecordType"),
    ("timestamp_unit", "minutes", "timestamp_unit must be one of"),
    ("ack_callback", 3, "ack_callback must be an AckCallback instance or a callable, got 3"),
]


@pytest.mark.parametrize(("name", "value"), VALID)
def test_an_assignment_takes_every_value_the_constructor_takes(name: str, value: Any) -> None:
    options = StreamConfigurationOptions()
    setattr(options, name, value)
    assert getattr(options, name) == value
    assert options == StreamConfigurationOptions(**{name: value})


@pytest.mark.parametrize(("name", "value", "message"), INVALID)
def test_an_assignment_is_checked_like_the_constructor(name: str, value: Any, message: str) -> None:
    options = StreamConfigurationOptions()
    before = getattr(options, name)
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        setattr(options, name, value)
    assert getattr(options, name) == before  # nothing half-changed
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(")):
        StreamConfigurationOptions(**{name: value})


def test_an_assignment_coerces_like_the_constructor() -> None:
    options = StreamConfigurationOptions()
    options.record_type = "json"  # type: ignore[assignment]
    assert options.record_type is RecordType.JSON


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("max_inflight", "did you mean 'max_inflight_records'?"),
        ("flush_timeout", "did you mean 'flush_timeout_ms'?"),
        ("recovery_retry", "did you mean 'recovery_retries'?"),
        ("zzz", "valid options: ack_callback, callback_max_wait_time_ms, date_unit, "),
    ],
)
def test_an_unknown_option_names_the_closest_valid_one_or_lists_them(name: str, hint: str) -> None:
    for attempt in (
        lambda: StreamConfigurationOptions(**{name: 1}),
        lambda: setattr(StreamConfigurationOptions(), name, 1),
        lambda: StreamConfigurationOptions().replace(**{name: 1}),
    ):
        with pytest.raises(UnknownOptionError) as caught:
            attempt()
        assert f"StreamConfigurationOptions has no option {name!r}; {hint}" in str(caught.value)
        if "valid options" in hint:  # the whole list, sorted
            assert all(field in str(caught.value) for field in vars(StreamConfigurationOptions()))
        # A ValueError, as the official constructor raises; an AttributeError, as its setattr does.
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, AttributeError)


def test_setup_style_mutation_then_a_stream_keeps_the_options_it_was_created_with(
    driver: Any, events_table: str, zerobus_server: Any
) -> None:
    options = fast_options()
    options.max_inflight_records = 7
    options.record_type = RecordType.JSON
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), options
    )
    options.max_inflight_records = 1  # later assignments are for streams created later
    options.record_type = RecordType.PROTO
    try:
        kept = stream.options
        assert kept.max_inflight_records == 7 and kept.record_type is RecordType.JSON
        assert kept is not options
        for number in range(20):  # more than 1 in flight: the stream's own window is 7
            stream.ingest_record_offset({"id": number, "name": f"n{number}"})
        stream.flush()
    finally:
        stream.close()
    assert sorted(row["id"] for row in zerobus_server.rows(events_table)) == list(range(20))


def test_the_arrow_options_refuse_unknown_names_the_same_way() -> None:
    from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions

    for attempt in (
        lambda: ArrowStreamConfigurationOptions(max_inflight=5),  # type: ignore[call-arg]
        lambda: setattr(ArrowStreamConfigurationOptions(), "max_inflight", 5),
    ):
        with pytest.raises(UnknownOptionError, match="did you mean 'max_inflight_batches'") as caught:
            attempt()
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, AttributeError)
    options = ArrowStreamConfigurationOptions()
    options.max_inflight_batches = 7
    assert options.max_inflight_batches == 7
    with pytest.raises(ConfigurationError, match="max_inflight_batches must be an integer >= 1, got -1"):
        options.max_inflight_batches = -1
