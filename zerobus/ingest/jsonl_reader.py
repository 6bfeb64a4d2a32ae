"""Internal: JSON lines: one JSON object per line, keyed by column name; blank lines are skipped.

A line that is not a JSON object is refused with its line number, its text and the reason;
the next line is read. A file that starts with a JSON array is not JSON lines: it is refused
whole, before anything is sent. Keys are column names exactly as the table spells them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from zerobus.ingest.batch import RowBatch
from zerobus.ingest.errors import InputFileError
from zerobus.ingest.json_numbers import json_loader
from zerobus.schema.ir import TableSchema

__all__ = ["read_jsonl"]


def read_jsonl(
    path: str, stream: IO[str], schema: TableSchema, batch: RowBatch, batch_rows: int
) -> Iterator[None]:
    """Fill `batch` from `stream`, yielding whenever it holds `batch_rows` records."""
    loads = json_loader(schema)
    records, numbers, raws = batch.records, batch.numbers, batch.raws
    for number, line in enumerate(stream, 1):
        text = line.rstrip("\r\n")
        try:
            record = loads(text)
        except ValueError as error:
            stripped = text.strip()
            if number == 1 and stripped.startswith("["):
                raise _array_file(path) from None
            if stripped:
                batch.refuse(number, text, f"not valid JSON: {error}")
            continue
        except RecursionError:
            batch.refuse(number, text, "not readable: JSON nested too deeply")
            continue
        if type(record) is not dict:
            if number == 1 and type(record) is list:
                raise _array_file(path)
            batch.refuse(number, text, f"a line must hold one JSON object, got {type(record).__name__}")
            continue
        records.append(record)
        numbers.append(number)
        raws.append(text)
        if len(records) >= batch_rows:
            yield


def _array_file(path: str) -> InputFileError:
    """A JSON array file (a whole document, not lines): refused before any of it is sent."""
    return InputFileError(path, "holds a JSON array; write one JSON object per line (JSON lines)")
