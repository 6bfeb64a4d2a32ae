"""Internal: Which reader a file needs: by its extension, by its first bytes when that is ambiguous, or forced."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path

__all__ = ["FileFormat", "detect_format", "format_from_name", "sniff_format"]


class FileFormat(str, enum.Enum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


_EXTENSIONS = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".json": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
}
PARQUET_MAGIC = b"PAR1"


def format_from_name(path: str) -> FileFormat | None:
    """The format an extension names (case-insensitive), or None when it names none."""
    return _EXTENSIONS.get(Path(path).suffix.lower())


def sniff_format(head: bytes) -> FileFormat:
    """The format of a file from its first bytes: Parquet's magic, a JSON object, else CSV."""
    if head.startswith(PARQUET_MAGIC):
        return FileFormat.PARQUET
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return FileFormat.JSONL
    return FileFormat.CSV


def detect_format(path: str, peek: Callable[[], bytes], forced: FileFormat | None = None) -> FileFormat:
    """`forced` if given, else the extension's format, else what the first bytes look like.

    `peek` returns the first bytes without consuming them (a buffered stream's `peek`), so a
    pipe or standard input can be sniffed too; it is called only when the name says nothing.
    """
    if forced is not None:
        return forced
    named = format_from_name(path)
    if named is not None:
        return named
    return sniff_format(peek())
