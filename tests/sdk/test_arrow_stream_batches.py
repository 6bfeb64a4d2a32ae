"""What `ingest_batch` is given -> batches of the stream's schema under the request limit (no I/O)."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from zerobus import ArrowStreamConfigurationOptions, IPCCompression
from zerobus.encoders.arrow_input import as_arrow_table
from zerobus.errors import ConfigurationError, InvalidRecordError, SchemaError
from zerobus.sdk.shared.arrow_batches import conform, split_to_fit

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
    ]
)


def test_dataframes_and_arrow_objects_become_tables() -> None:
    expected = pa.table({"id": [1, 2], "name": ["a", None]})
    for given in (
        expected,
        expected.to_batches()[0],
        pl.DataFrame({"id": [1, 2], "name": ["a", None]}),
        pd.DataFrame({"id": [1, 2], "name": ["a", None]}),
    ):
        table = conform(as_arrow_table(given, "ingest_batch"), SCHEMA)
        assert table.schema == SCHEMA
        assert table.to_pylist() == [
            {"id": 1, "name": "a", "tags": None},
            {"id": 2, "name": None, "tags": None},
        ]


def test_anything_else_is_refused_by_type() -> None:
    with pytest.raises(
        InvalidRecordError, match=r"ingest_batch takes a pyarrow Table or RecordBatch"
    ) as raised:
        as_arrow_table([{"id": 1}], "ingest_batch")
    assert "'list'" in str(raised.value)


def test_other_layouts_and_column_order_are_converted() -> None:
    given = pa.table(
        {
            "tags": pa.array([["x"]], pa.large_list(pa.large_string())),
            "name": pa.array(["a"], pa.string_view()),
            "id": pa.array([7], pa.int32()),
        }
    )
    assert conform(given, SCHEMA).to_pylist() == [{"id": 7, "name": "a", "tags": ["x"]}]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (pa.table({"id": ["1"]}), "column 'id': expected Arrow type int64, given string"),
        (pa.table({"id": [1.5]}), "column 'id': expected Arrow type int64, given double"),
        (
            pa.table({"id": [1], "tags": [1]}),
            "column 'tags': expected Arrow type list<item: string>, given int64",
        ),
        (
            pa.table({"id": [1], "extra": [1]}),
            "column 'extra': the batch has a column the stream's schema does not",
        ),
        (pa.table({"name": ["a"]}), "column 'id': the batch lacks the column 'id', which is NOT NULL"),
    ],
)
def test_a_schema_mismatch_names_column_and_types(given: pa.Table, message: str) -> None:
    with pytest.raises(SchemaError) as raised:
        conform(given, SCHEMA)
    assert message in str(raised.value)


def test_a_null_in_a_not_null_column_names_its_row() -> None:
    with pytest.raises(InvalidRecordError, match=r"field 'id': row 2 is null, but the column is NOT NULL"):
        conform(pa.table({"id": [1, 2, None]}), SCHEMA)


def test_data_already_of_the_streams_schema_is_still_checked_for_nulls_in_not_null_columns() -> None:
    # Built with the stream's own schema (nothing to convert), the null in a second chunk still counts.
    exact = pa.Table.from_batches(
        [
            pa.record_batch({"id": [1, 2], "name": ["a", None], "tags": [None, ["x"]]}, schema=SCHEMA),
            pa.record_batch({"id": [3, None], "name": ["c", "d"], "tags": [[], None]}, schema=SCHEMA),
        ]
    )
    with pytest.raises(InvalidRecordError, match=r"field 'id': row 3 is null, but the column is NOT NULL"):
        conform(exact, SCHEMA)
    fine = exact.slice(0, 3)
    assert conform(fine, SCHEMA).to_pylist() == fine.to_pylist()
    labelled = SCHEMA.with_metadata({b"origin": b"user"})
    assert conform(fine.cast(labelled), SCHEMA).schema.metadata is None  # the stream's schema, exactly


def test_an_integer_that_does_not_fit_is_named_never_wrapped() -> None:
    narrow = pa.schema([pa.field("small", pa.int8())])
    with pytest.raises(InvalidRecordError, match=r"field 'small'.*does not convert to int8"):
        conform(pa.table({"small": [1, 300]}), narrow)


def test_a_batch_over_the_budget_is_cut_into_consecutive_slices_under_it() -> None:
    batch = pa.record_batch({"blob": [b"x" * 1000] * 100})
    pieces = split_to_fit(batch, budget=10_000)
    assert len(pieces) > 1
    assert all(pa.ipc.get_record_batch_size(piece) <= 10_000 for piece in pieces)
    assert pa.Table.from_batches(pieces).equals(pa.Table.from_batches([batch]))


def test_a_single_row_over_the_budget_is_refused_with_its_row() -> None:
    batch = pa.record_batch({"blob": [b"x", b"y" * 50_000, b"z"]})
    with pytest.raises(InvalidRecordError, match=r"row 1 alone is .* bytes in Arrow IPC"):
        split_to_fit(batch, budget=10_000)


def test_options_have_the_official_defaults_and_refuse_bad_values() -> None:
    options = ArrowStreamConfigurationOptions()
    assert (options.max_inflight_batches, options.recovery_retries, options.connection_timeout_ms) == (
        1000,
        4,
        30000,
    )
    assert options.ipc_compression is IPCCompression.NONE and options.stream_paused_max_wait_time_ms is None
    with pytest.raises(ConfigurationError, match=r"max_inflight_batches must be an integer >= 1, got 0"):
        ArrowStreamConfigurationOptions(max_inflight_batches=0)
    with pytest.raises(ConfigurationError, match=r"ipc_compression must be an IPCCompression"):
        options.ipc_compression = "zstd"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match=r"has no option 'max_inflight_records'"):
        options.max_inflight_records = 5  # type: ignore[attr-defined]


def test_timestamps_of_another_unit_convert_exactly_or_are_refused() -> None:
    schema = pa.schema([pa.field("at", pa.timestamp("us", tz="UTC"))])
    nanos = pa.array([1_000, 1_000_001_000], pa.timestamp("ns", tz="UTC"))
    assert (
        conform(pa.table({"at": nanos}), schema).column(0).to_pylist()
        == nanos.cast(schema[0].type).to_pylist()
    )
    with pytest.raises(InvalidRecordError, match=r"field 'at'.*does not convert"):
        conform(pa.table({"at": pa.array([1_001], pa.timestamp("ns", tz="UTC"))}), schema)
    with pytest.raises(
        SchemaError, match=r"column 'at': expected Arrow type timestamp.*given timestamp\[us\]"
    ):
        conform(pa.table({"at": pa.array([1], pa.timestamp("us"))}), schema)
