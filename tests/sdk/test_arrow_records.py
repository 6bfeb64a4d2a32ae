"""`ingest_arrow`'s encoding: the same proto bytes as the dict path, for every column type.

The vectorised encoder (`zerobus.encoders.arrow_records`) is compared byte for byte with the
stream's dict encoder on the same rows: every scalar type with nulls, timestamps of every unit,
decimals, nested types, pandas and polars DataFrames, descriptors with sint/fixed/uint/enum
fields and proto3 fields, and random tables (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

from zerobus.encoders.arrow_records import ArrowRecordEncoder  # noqa: E402
from zerobus.encoders.proto import ProtoEncoder  # noqa: E402
from zerobus.encoders.record_schemas import record_schema_from_table, resolve_record_schema  # noqa: E402
from zerobus.schema.ir import TableSchema  # noqa: E402
from zerobus.schema.parse import schema_from_ddl  # noqa: E402

UTC = dt.timezone.utc
ALL_TYPES = (
    "id BIGINT NOT NULL, t TINYINT, s SMALLINT, i INT, f FLOAT, d DOUBLE, b BOOLEAN, name STRING, "
    "short VARCHAR(5), bin BINARY, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, amount DECIMAL(10,2), "
    "big DECIMAL(38,0), tags ARRAY<STRING>, scores MAP<STRING,INT>, "
    "place STRUCT<lat: DOUBLE, lon: DOUBLE, at: TIMESTAMP>, var VARIANT"
)
FULL_ROW: dict[str, Any] = {
    "id": 1,
    "t": -128,
    "s": 32767,
    "i": -(2**31),
    "f": 1.5,
    "d": -2.25e300,
    "b": True,
    "name": "héllo 🌍",
    "short": "abcde",
    "bin": b"\x00\xff",
    "day": dt.date(1, 1, 1),
    "ts": dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    "ntz": dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    "amount": decimal.Decimal("-12.30"),
    "big": decimal.Decimal("9" * 38),
    "tags": ["a", "", "c"],
    "scores": {"x": 1, "y": -2},
    "place": {"lat": 1.0, "lon": None, "at": dt.datetime(2020, 1, 1, tzinfo=UTC)},
    "var": '{"k": [1, 2]}',
}
ROWS: list[dict[str, Any]] = [
    FULL_ROW,
    {"id": -(2**63)},  # every nullable column null
    {"id": 2**63 - 1, "b": False, "name": "", "i": 0, "d": 0.0, "tags": [], "scores": {}, "bin": b""},
]


def encoders(schema: TableSchema) -> tuple[ProtoEncoder, ArrowRecordEncoder]:
    proto = ProtoEncoder(record_schema_from_table(schema))
    return proto, ArrowRecordEncoder(proto)


def arrow_bytes(arrow: ArrowRecordEncoder, data: Any, max_records: int = 10_000) -> list[bytes]:
    return [bytes(record) for batch in arrow.submissions(data, max_records, 2**21) for record in batch]


def test_every_column_type_with_nulls_gives_the_dict_paths_bytes() -> None:
    schema = schema_from_ddl(ALL_TYPES, "c.s.t")
    proto, arrow = encoders(schema)
    table = pa.Table.from_pylist(ROWS, schema=schema.arrow_schema())
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in ROWS]
    batch = table.to_batches()[0]
    assert arrow_bytes(arrow, batch) == [proto.encode(row) for row in ROWS]


def test_other_layouts_and_lossless_widenings_give_the_same_bytes() -> None:
    schema = schema_from_ddl(
        "id BIGINT NOT NULL, d DOUBLE, f FLOAT, name STRING, bin BINARY, day DATE", "c.s.t"
    )
    proto, arrow = encoders(schema)
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int8()),
            "d": pa.array([1.5, None, -0.0], pa.float32()),
            "f": pa.array([0.1, 3.0e38, None], pa.float64()),  # rounded to float32 as a dict's float is
            "name": pa.array(["a", "b", "a"]).dictionary_encode(),
            "bin": pa.array([b"ab", b"cd", b"ef"], pa.binary(2)),
            "day": pa.array([0, 86_400_000 * 19_000, None], pa.date64()),
        }
    )
    rows = [
        {"id": 1, "d": 1.5, "f": 0.1, "name": "a", "bin": b"ab", "day": dt.date(1970, 1, 1)},
        {
            "id": 2,
            "f": 3.0e38,
            "name": "b",
            "bin": b"cd",
            "day": dt.date(1970, 1, 1) + dt.timedelta(days=19_000),
        },
        {"id": 3, "d": -0.0, "name": "a", "bin": b"ef"},
    ]
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in rows]
    views = pa.table({"id": pa.array([1]), "name": pa.array(["v"], pa.string_view())})
    assert arrow_bytes(arrow, views) == [proto.encode({"id": 1, "name": "v"})]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_timestamps_of_every_unit_are_converted_exactly(unit: str) -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, ts TIMESTAMP, ntz TIMESTAMP_NTZ", "c.s.t")
    proto, arrow = encoders(schema)
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    seconds = [0, -86_400 * 365 * 100, 1_700_000_000, 253_402_300_799]  # 1970, 1870, 2023, 9999-12-31
    if unit == "ns":
        seconds = seconds[:3]  # int64 nanoseconds end in 2262
    values = [s * per_second for s in seconds]
    table = pa.table(
        {
            "id": list(range(len(values))),
            "ts": pa.array(values, pa.timestamp(unit, "Europe/Paris")),
            "ntz": pa.array(values, pa.timestamp(unit)),
        }
    )
    epoch = dt.datetime(1970, 1, 1)
    rows = [
        {
            "id": n,
            "ts": (epoch + dt.timedelta(seconds=s)).replace(tzinfo=UTC),
            "ntz": epoch + dt.timedelta(seconds=s),
        }
        for n, s in enumerate(seconds)
    ]
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in rows]


def test_decimals_of_other_precisions_and_integers_fit_when_every_value_does() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, amount DECIMAL(6,2)", "c.s.t")
    proto, arrow = encoders(schema)
    values = [decimal.Decimal("1.5"), decimal.Decimal("-9999.99"), decimal.Decimal("0")]
    table = pa.table({"id": [1, 2, 3], "amount": pa.array(values, pa.decimal128(20, 2))})
    rows = [{"id": n, "amount": value} for n, value in zip([1, 2, 3], values, strict=True)]
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in rows]
    ints = pa.table({"id": [1], "amount": pa.array([42], pa.int64())})
    assert arrow_bytes(arrow, ints) == [proto.encode({"id": 1, "amount": 42})]


def test_pandas_and_polars_dataframes_go_through_the_arrow_pycapsule_interface() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    schema = schema_from_ddl("id BIGINT NOT NULL, name STRING, value DOUBLE, at TIMESTAMP", "c.s.t")
    proto, arrow = encoders(schema)
    at = [dt.datetime(2024, 5, 1, tzinfo=UTC), None]
    frame = {"id": [1, 2], "name": ["a", None], "value": [0.5, None], "at": at}
    rows = [{"id": 1, "name": "a", "value": 0.5, "at": at[0]}, {"id": 2}]
    expected = [proto.encode(row) for row in rows]
    pandas_frame = pd.DataFrame(frame)
    pandas_frame["at"] = pd.to_datetime(pandas_frame["at"], utc=True)
    # pandas' own Arrow conversion turns its missing values (None, NaN, NaT) into nulls.
    assert arrow_bytes(arrow, pandas_frame) == expected
    assert (
        arrow_bytes(arrow, pl.DataFrame(frame, schema_overrides={"at": pl.Datetime("us", "UTC")})) == expected
    )


def test_split_into_submissions_by_records_and_by_bytes_in_order() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, blob BINARY", "c.s.t")
    proto, arrow = encoders(schema)
    rows = [{"id": n, "blob": bytes([n % 256]) * 1000} for n in range(1000)]
    table = pa.Table.from_pylist(rows, schema=schema.arrow_schema())
    batches = arrow.submissions(table, 300, 100_000)
    assert all(len(batch) <= 300 and batch.nbytes + 16 * len(batch) <= 100_000 for batch in batches)
    assert all(batch.nbytes == sum(map(len, batch)) for batch in batches)
    assert [bytes(record) for batch in batches for record in batch] == [proto.encode(row) for row in rows]
    assert arrow.submissions(table.slice(0, 0), 300, 100_000) == []


SPECIAL_PROTO = """
syntax = "proto2";
package tests.arrow;
message Special {
  enum Color { RED = 0; GREEN = 1; }
  required sint64 a = 1;
  optional sint32 b = 2;
  optional fixed64 c = 3;
  optional sfixed32 d = 4;
  optional uint32 e = 5;
  optional float f = 6;
  optional Color color = 7;
  repeated int32 many = 8;
  optional string name = 20000;
}
"""
PROTO3 = """
syntax = "proto3";
package tests.arrow3;
message Plain {
  int64 a = 1;
  string name = 2;
  double d = 3;
  bool b = 4;
  optional int32 kept = 5;
}
"""


@pytest.fixture(scope="module")
def special_pb2(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    from tests.sdk.conftest import _load

    protoc = pytest.importorskip("grpc_tools.protoc")
    out = tmp_path_factory.mktemp("arrow_pb2")
    for name, text in (("special", SPECIAL_PROTO), ("plain3", PROTO3)):
        (out / f"{name}.proto").write_text(text)
        assert protoc.main(["protoc", f"-I{out}", f"--python_out={out}", str(out / f"{name}.proto")]) == 0
    _load(out / "plain3_pb2.py", "plain3_pb2")
    return _load(out / "special_pb2.py", "special_pb2")


def test_field_numbers_and_wire_types_come_from_the_descriptor(special_pb2: ModuleType) -> None:
    proto = ProtoEncoder(resolve_record_schema(special_pb2.Special))
    arrow = ArrowRecordEncoder(proto)
    rows = [
        {
            "a": -5,
            "b": -(2**31),
            "c": 2**63 - 1,
            "d": -7,
            "e": 2**32 - 1,
            "f": 0.25,
            "color": 1,
            "many": [1, -1],
            "name": "x",
        },
        {"a": 2**62, "b": 3, "many": []},
    ]
    table = pa.table(
        {
            "a": pa.array([-5, 2**62]),
            "b": pa.array([-(2**31), 3], pa.int32()),
            "c": pa.array([2**63 - 1, None], pa.uint64()),
            "d": pa.array([-7, None]),
            "e": pa.array([2**32 - 1, None], pa.uint32()),
            "f": pa.array([0.25, None], pa.float32()),
            "color": pa.array([1, None], pa.int32()),
            "many": pa.array([[1, -1], []], pa.list_(pa.int32())),
            "name": pa.array(["x", None]),
        }
    )
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in rows]


def test_proto3_fields_without_presence_leave_out_zero_values(special_pb2: ModuleType) -> None:
    import plain3_pb2  # type: ignore[import-not-found]

    proto = ProtoEncoder(resolve_record_schema(plain3_pb2.Plain))
    arrow = ArrowRecordEncoder(proto)
    rows = [
        {"a": 0, "name": "", "d": 0.0, "b": False, "kept": 0},
        {"a": 3, "name": "z", "d": -0.0, "b": True},
    ]
    table = pa.table(
        {
            "a": [0, 3],
            "name": ["", "z"],
            "d": [0.0, -0.0],
            "b": [False, True],
            "kept": pa.array([0, None], pa.int32()),
        }
    )
    assert arrow_bytes(arrow, table) == [proto.encode(row) for row in rows]


SCALARS = "id BIGINT NOT NULL, t TINYINT, i INT, f FLOAT, d DOUBLE, b BOOLEAN, name VARCHAR(8), bin BINARY, day DATE, ts TIMESTAMP, amount DECIMAL(9,3), tags ARRAY<INT>"
_SCHEMA = schema_from_ddl(SCALARS, "c.s.t")
_PROTO, _ARROW = encoders(_SCHEMA)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_ROW = st.fixed_dictionaries(
    {"id": st.integers(-(2**63), 2**63 - 1)},
    optional={
        "t": _maybe(st.integers(-128, 127)),
        "i": _maybe(st.integers(-(2**31), 2**31 - 1)),
        "f": _maybe(st.floats(width=32, allow_nan=False)),
        "d": _maybe(st.floats(allow_nan=False)),
        "b": _maybe(st.booleans()),
        "name": _maybe(st.text(max_size=8)),
        "bin": _maybe(st.binary(max_size=300)),
        "day": _maybe(st.dates()),
        "ts": _maybe(st.datetimes(timezones=st.just(UTC))),
        "amount": _maybe(st.decimals(min_value=-999_999, max_value=999_999, places=3, allow_nan=False)),
        "tags": _maybe(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4)),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_ROW, min_size=1, max_size=40),
    columns=st.permutations([column.name for column in _SCHEMA.columns]),
    kept=st.integers(1, len(_SCHEMA.columns)),
)
def test_random_tables_encode_exactly_as_their_rows_do_as_dicts(
    rows: list[dict[str, Any]], columns: list[str], kept: int
) -> None:
    # Any subset of the columns (the NOT NULL id always), in any order.
    chosen = ["id", *[name for name in columns[:kept] if name != "id"]]
    table = pa.Table.from_pylist(rows, schema=_SCHEMA.arrow_schema()).select(chosen)
    expected = [
        _PROTO.encode({k: v for k, v in row.items() if v is not None and k in chosen}) for row in rows
    ]
    assert arrow_bytes(_ARROW, table, max_records=7) == expected


def test_a_column_of_the_null_type_leaves_the_field_out_of_every_row() -> None:
    schema = schema_from_ddl("id BIGINT NOT NULL, name STRING, tags ARRAY<INT>", "c.s.t")
    proto, arrow = encoders(schema)
    table = pa.table({"id": [1, 2], "name": pa.nulls(2), "tags": pa.nulls(2)})
    assert arrow_bytes(arrow, table) == [proto.encode({"id": 1}), proto.encode({"id": 2})]
