"""`ingest_arrow` refuses what does not fit, naming the column, the row and the value.

Schema mismatches (unknown column, type that does not fit, NOT NULL column missing) are
`SchemaError`s naming the column with the expected and the given type; values that do not fit
(out of range, lossy unit, too many digits, null in a NOT NULL column) are `InvalidRecordError`s
naming the column and the row. Nothing is converted silently.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from zerobus.encoders.arrow_records import ArrowRecordEncoder  # noqa: E402
from zerobus.encoders.json_records import JsonEncoder  # noqa: E402
from zerobus.encoders.proto import ProtoEncoder  # noqa: E402
from zerobus.encoders.record_schemas import record_schema_from_table  # noqa: E402
from zerobus.errors import InvalidRecordError, SchemaError  # noqa: E402
from zerobus.schema.parse import schema_from_ddl  # noqa: E402

DDL = (
    "id BIGINT NOT NULL, t TINYINT, i INT, f FLOAT, short VARCHAR(3), day DATE, ts TIMESTAMP, "
    "ntz TIMESTAMP_NTZ, amount DECIMAL(5,2), tags ARRAY<TIMESTAMP>, place STRUCT<lat: DOUBLE>"
)
SCHEMA = schema_from_ddl(DDL, "c.s.t")


def encode(data: Any) -> list[bytes]:
    arrow = ArrowRecordEncoder(ProtoEncoder(record_schema_from_table(SCHEMA)))
    return [bytes(record) for batch in arrow.submissions(data, 1000, 2**21) for record in batch]


def with_ids(**columns: Any) -> Any:
    rows = len(next(iter(columns.values())))
    return pa.table({"id": list(range(rows)), **columns})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (with_ids(nope=[1]), "column 'nope': the table has no such column"),
        (with_ids(ID=[1]), "column 'ID': .*did you mean 'id'"),
        (with_ids(__index_level_0__=[1]), "pandas index: pass df.reset_index"),
        (pa.table({"t": [1]}), "column 'id': NOT NULL column is missing"),
        (with_ids(i=["1"]), r"column 'i': Arrow type string does not fit int \(expected int32\)"),
        (with_ids(f=pa.array([1], pa.int64())), "column 'f': Arrow type int64 does not fit float"),
        (with_ids(amount=[1.5]), "column 'amount': Arrow type double does not fit decimal"),
        (with_ids(ts=pa.array([0], pa.timestamp("us"))), "TIMESTAMP needs a timestamp with a time zone"),
        (with_ids(ntz=pa.array([0], pa.timestamp("us", "UTC"))), "TIMESTAMP_NTZ takes a timestamp without"),
        (with_ids(day=pa.array([0], pa.timestamp("s", "UTC"))), "column 'day': .*not a lossless conversion"),
        (
            with_ids(place=pa.array([{"lat": 1.0, "x": 2}])),
            "column 'place': .*member 'x' is not in struct<lat:double>",
        ),
        (
            with_ids(tags=pa.array([[0]], pa.list_(pa.timestamp("us")))),
            "column 'tags': .*element: TIMESTAMP needs a timestamp with a time zone",
        ),
    ],
)
def test_schema_mismatches_name_the_column_and_the_types(table: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        encode(table)


NS = pa.timestamp("ns", "UTC")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"id": pa.array([1, None])}), "field 'id': row 1: NOT NULL column is null"),
        (with_ids(i=[1, 2**31]), r"field 'i': row 1: out of range for INT \[-2147483648, 2147483647\]"),
        (with_ids(t=pa.array([None, 5, -129], pa.int16())), r"field 't': row 2: out of range for TINYINT"),
        (with_ids(i=pa.array([2**63], pa.uint64())), "field 'i': row 0: out of range for INT"),
        (with_ids(f=[1.0, 1e39]), r"field 'f': row 1: out of range for FLOAT \(32-bit\)"),
        (with_ids(short=["abc", "abcd"]), "field 'short': row 1: longer than 3 characters"),
        (
            with_ids(day=pa.array([86_400_000, 1], pa.date64())),
            "field 'day': row 1: date64 value is not a whole day",
        ),
        (with_ids(day=pa.array([3_000_000], pa.date32())), "field 'day': row 0: outside the DATE range"),
        (with_ids(ts=pa.array([1000, 1500], NS)), "field 'ts': row 1: has nanoseconds"),
        (
            with_ids(ts=pa.array([0, 10**12], pa.timestamp("s", "UTC"))),
            "field 'ts': row 1: outside the TIMESTAMP",
        ),
        (
            with_ids(amount=pa.array([decimal.Decimal("1.234")], pa.decimal128(6, 3))),
            "field 'amount': row 0: has 3 fractional digits; decimal.5,2. allows 2",
        ),
        (
            with_ids(amount=pa.array([decimal.Decimal("1"), decimal.Decimal("1234")], pa.decimal128(10, 0))),
            "field 'amount': row 1: needs 4 integer digits",
        ),
        (with_ids(amount=pa.array([10**6], pa.int64())), "field 'amount': row 0: needs 7 integer digits"),
        (
            with_ids(tags=pa.array([[0], [0, 1500]], pa.list_(NS))),
            "field 'tags': row 1: .*would lose data",
        ),
    ],
)
def test_values_that_do_not_fit_name_the_column_the_row_and_the_value(table: Any, message: str) -> None:
    with pytest.raises(InvalidRecordError, match=message):
        encode(table)


def test_the_row_number_counts_from_the_start_of_the_input_across_slices() -> None:
    values = [0] * 70_000
    values[69_999] = 2**40
    with pytest.raises(InvalidRecordError, match="field 'i': row 69999: out of range"):
        encode(with_ids(i=values))


def test_input_that_is_not_arrow_is_refused_with_what_is_accepted() -> None:
    with pytest.raises(
        InvalidRecordError, match=r"ingest_arrow takes a pyarrow Table or RecordBatch.*got list"
    ):
        encode([{"id": 1}])


def test_a_json_stream_gets_the_json_text_of_each_row() -> None:
    schema = schema_from_ddl(
        "id BIGINT NOT NULL, at TIMESTAMP, amount DECIMAL(5,2), tags MAP<STRING,INT>", "c.s.t"
    )
    json_encoder = JsonEncoder(schema)
    arrow = ArrowRecordEncoder(json_encoder)
    at = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    rows = [{"id": 1, "at": at, "amount": decimal.Decimal("1.50"), "tags": {"a": 1}}, {"id": 2}]
    table = pa.table(
        {
            "id": [1, 2],
            "at": pa.array([at, None], pa.timestamp("ns", "UTC")),
            "amount": pa.array([decimal.Decimal("1.5"), None], pa.decimal128(4, 1)),
            "tags": pa.array([[("a", 1)], None], pa.map_(pa.string(), pa.int64())),
        }
    )
    texts = [record for batch in arrow.submissions(table, 1000, 2**21) for record in batch]
    assert texts == [json_encoder.encode(row) for row in rows]
    assert json.loads(texts[0])["at"] == 1_704_067_200_000_000
    with pytest.raises(InvalidRecordError, match=r"field 'at': row 0: .*would lose data"):
        arrow.submissions(pa.table({"id": [1], "at": pa.array([1], pa.timestamp("ns", "UTC"))}), 1000, 2**21)
    with pytest.raises(SchemaError, match="column 'x': the table has no such column"):
        arrow.submissions(pa.table({"x": [1]}), 1000, 2**21)


def test_a_not_null_column_of_the_null_type_is_refused_at_its_first_row() -> None:
    with pytest.raises(InvalidRecordError, match="field 'id': row 0: NOT NULL column is null"):
        encode(pa.table({"id": pa.nulls(2)}))


def test_a_record_larger_than_a_request_is_refused_before_anything_is_queued() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, blob BINARY", "c.s.t")
    arrow = ArrowRecordEncoder(ProtoEncoder(record_schema_from_table(schema)))
    table = pa.table({"id": [1, 2], "blob": pa.array([b"x", b"y" * 3_000_000])})
    with pytest.raises(InvalidRecordError, match="row 1: the record is larger than one request may be"):
        arrow.submissions(table, 1000, 2**21, 2**21)
    # Within the request limit but above a submission's: it goes alone.
    assert [len(batch) for batch in arrow.submissions(table, 1000, 2**21, 10 * 2**20)] == [1, 1]


def test_a_json_stream_without_schema_never_truncates_nanoseconds() -> None:
    arrow = ArrowRecordEncoder(JsonEncoder())
    exact = pa.table({"at": pa.array([1_000, None], pa.timestamp("ns", "UTC")), "n": [1, 2]})
    texts = [record for batch in arrow.submissions(exact, 1000, 2**21) for record in batch]
    assert [json.loads(text) for text in texts] == [{"at": 1, "n": 1}, {"at": None, "n": 2}]
    nested = pa.table({"times": pa.array([[1_000], [2_000, 2_001]], pa.list_(pa.timestamp("ns")))})
    with pytest.raises(InvalidRecordError, match=r"field 'times': row 1: .*would lose data"):
        arrow.submissions(nested, 1000, 2**21)
