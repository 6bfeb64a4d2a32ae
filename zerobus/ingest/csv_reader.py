"""Internal: CSV rows: a header line naming the table's columns, then one record per row.

Line numbers are where a record starts in the file (a quoted field may span lines), counting
the header as line 1. Fields become values by `csv_values`; a row that cannot is refused with
its line, its fields and the reason, and the next row is read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any

from zerobus.errors import InvalidRecordError
from zerobus.ingest.batch import RowBatch
from zerobus.ingest.columns import match_columns
from zerobus.ingest.csv_values import empty_value, text_converter
from zerobus.ingest.errors import InputFileError
from zerobus.protocol.constants import MAX_REQUEST_BYTES
from zerobus.schema.ir import TableSchema

__all__ = ["read_csv"]

# A field longer than a whole request could never be sent.
_MAX_FIELD_CHARS = MAX_REQUEST_BYTES


def read_csv(
    path: str, stream: IO[str], schema: TableSchema, batch: RowBatch, batch_rows: int, delimiter: str = ","
) -> Iterator[None]:
    """Fill `batch` from `stream`, yielding whenever it holds `batch_rows` records."""
    # A record may be up to the service's 10 MiB; csv's default limit on one field is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD_CHARS))
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = match_columns(path, [name.strip() for name in header], schema)
        plan = tuple((column.name, text_converter(column), empty_value(column)) for column in columns)
        width = len(header)
        batch.raw_form = lambda fields: _as_dict(header, fields)
        records, numbers, raws = batch.records, batch.numbers, batch.raws
        start = reader.line_num + 1
        for fields in reader:
            number, start = start, reader.line_num + 1
            if len(fields) != width:
                if not fields:
                    continue  # a blank line
                batch.refuse(number, fields, f"has {len(fields)} fields; the header has {width}")
                continue
            record: dict[str, Any] = {}
            try:
                for (name, convert, empty), text in zip(plan, fields, strict=True):
                    if not text:
                        if empty is not None:
                            record[name] = empty
                    elif convert is None:
                        record[name] = text
                    else:
                        record[name] = convert(text)
            except InvalidRecordError as error:
                batch.refuse(number, fields, str(error), error.field)
                continue
            records.append(record)
            numbers.append(number)
            raws.append(fields)
            if len(records) >= batch_rows:
                yield
    except csv.Error as error:
        raise InputFileError(path, f"line {reader.line_num}: not readable as CSV: {error}") from error


def _as_dict(header: list[str], fields: list[str]) -> dict[str, Any]:
    """A row's fields keyed by the header; fields beyond the header's width under ``"_extra"``."""
    row: dict[str, Any] = dict(zip(header, fields, strict=False))
    if len(fields) > len(header):
        row["_extra"] = fields[len(header) :]
    return row
