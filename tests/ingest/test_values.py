"""Text to values: CSV fields by column type, JSON numbers for DECIMAL, formats by name and content."""

from __future__ import annotations

import decimal

import pytest

from zerobus.codegen import load_schema
from zerobus.errors import InvalidRecordError
from zerobus.ingest.csv_values import empty_value, text_converter
from zerobus.ingest.formats import FileFormat, format_from_name, sniff_format
from zerobus.ingest.json_numbers import json_loader

SCHEMA = load_schema(
    "main.default.t",
    ddl="i INT NOT NULL, b BIGINT, f DOUBLE, ok BOOLEAN, bin BINARY, at TIMESTAMP, s STRING NOT NULL, "
    "d DECIMAL(6,3), xs ARRAY<DECIMAL(4,2)>, st STRUCT<amount: DECIMAL(5,1), ratio DOUBLE>",
)
COLUMNS = {column.name: column for column in SCHEMA.columns}


def convert(column: str, text: str) -> object:
    converter = text_converter(COLUMNS[column])
    return text if converter is None else converter(text)


@pytest.mark.parametrize(
    ("column", "text", "value"),
    [
        ("i", "42", 42),
        ("i", " -7 ", -7),
        ("b", "+5", 5),
        ("f", "1e3", 1000.0),
        ("ok", "TRUE", True),
        ("ok", "n", False),
        ("bin", "aGk=", b"hi"),
        ("at", "1767323045000000", 1767323045000000),
        ("at", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z"),
        ("d", "0.125", "0.125"),
        ("xs", "[1.25, 2]", [decimal.Decimal("1.25"), 2]),
    ],
)
def test_fields_become_the_values_their_columns_take(column: str, text: str, value: object) -> None:
    assert convert(column, text) == value
    assert type(convert(column, text)) is type(value)


@pytest.mark.parametrize(
    ("column", "text", "reason"),
    [
        ("i", "1_000", "not an integer"),
        ("i", "١٢", "not an integer"),
        ("i", "1.0", "not an integer"),
        ("f", "1_0.5", "not a number"),
        ("ok", "maybe", "not a boolean"),
        ("bin", "not base64!", "not base64"),
        ("xs", "[1.25,", "not JSON"),
        ("xs", "[NaN]", "not JSON"),
    ],
)
def test_fields_that_are_not_their_columns_type_name_column_value_and_reason(
    column: str, text: str, reason: str
) -> None:
    with pytest.raises(InvalidRecordError) as raised:
        convert(column, text)
    assert raised.value.field == column and raised.value.value == text and reason in raised.value.reason


def test_empty_fields() -> None:
    assert empty_value(COLUMNS["s"]) == ""  # NOT NULL string: the only value an empty field can mean
    assert empty_value(COLUMNS["b"]) is None
    assert empty_value(COLUMNS["i"]) is None  # NOT NULL: the SDK refuses the missing value


def test_json_numbers_are_exact_decimals_only_where_the_table_has_decimals() -> None:
    row = json_loader(SCHEMA)('{"d": 0.1, "f": 0.1, "st": {"amount": 12.5, "ratio": 0.5}, "xs": [0.10]}')
    assert row["d"] == decimal.Decimal("0.1") and isinstance(row["d"], decimal.Decimal)
    assert row["f"] == 0.1 and isinstance(row["f"], float)
    assert row["st"] == {"amount": decimal.Decimal("12.5"), "ratio": 0.5}
    assert row["xs"] == [decimal.Decimal("0.10")]


def test_formats_by_name_and_by_content() -> None:
    assert format_from_name("a.CSV") is FileFormat.CSV
    assert format_from_name("a.ndjson") is FileFormat.JSONL
    assert format_from_name("a.parquet") is FileFormat.PARQUET
    assert format_from_name("a.txt") is None
    assert sniff_format(b"PAR1\x15\x04") is FileFormat.PARQUET
    assert sniff_format(b'\xef\xbb\xbf  {"id": 1}') is FileFormat.JSONL
    assert sniff_format(b"id,name\n") is FileFormat.CSV
