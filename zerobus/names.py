"""Internal: Unity Catalog names as the Zerobus service accepts them: the one validator of the package.

A table name is exactly three dot-separated parts ``catalog.schema.table``; each part is 1 to
255 ASCII letters, digits or underscores. The SDK, the local server (REST and gRPC) and the
CLIs all check names here, so a name one of them accepts is never refused by another, and a
look-alike (a trailing newline, a Unicode letter or digit) never reaches the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zerobus.errors import ConfigurationError

__all__ = ["MAX_NAME_PART_LENGTH", "TableName", "check_name_part", "parse_table_name"]

MAX_NAME_PART_LENGTH = 255
# An explicit ASCII class matched with `fullmatch`: `\w` and `str.isalnum` accept Unicode, and
# `$` matches before a trailing newline.
_PART = re.compile(r"[A-Za-z0-9_]+")
_ALLOWED = "made of ASCII letters, digits and underscore"
_EXPECTED = f"expected exactly three parts 'catalog.schema.table', each 1-{MAX_NAME_PART_LENGTH} characters {_ALLOWED}"


@dataclass(frozen=True)
class TableName:
    catalog: str
    schema: str
    table: str

    @property
    def full_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.table}"

    def __str__(self) -> str:
        return self.full_name


def _part_problem(part: str) -> str | None:
    """Why `part` is not a valid name part, or None when it is."""
    if not part:
        return "it is empty"
    if len(part) > MAX_NAME_PART_LENGTH:
        return f"it has {len(part)} characters (at most {MAX_NAME_PART_LENGTH})"
    if _PART.fullmatch(part) is None:
        bad = next(ch for ch in part if _PART.fullmatch(ch) is None)
        return f"it contains {bad!r} (U+{ord(bad):04X}); a part must be {_ALLOWED}"
    return None


def check_name_part(part: object, what: str) -> str:
    """`part` if it is a valid catalog, schema or table name; else `ConfigurationError` naming `what`."""
    if not isinstance(part, str):
        raise ConfigurationError(f"{what} must be a string {_ALLOWED}, got {type(part).__name__} {part!r}")
    problem = _part_problem(part)
    if problem is not None:
        raise ConfigurationError(f"invalid {what} {part!r}: {problem}")
    return part


def parse_table_name(name: object) -> TableName:
    """`catalog.schema.table`: exactly three parts of 1-255 ASCII letters, digits and underscore."""
    if not isinstance(name, str):
        raise ConfigurationError(
            f"table name must be a string 'catalog.schema.table', got {type(name).__name__}"
        )
    parts = name.split(".")
    if len(parts) != 3:
        raise ConfigurationError(
            f"invalid table name {name!r}: it has {len(parts)} dot-separated parts; {_EXPECTED}"
        )
    for label, part in zip(("catalog", "schema", "table"), parts, strict=True):
        problem = _part_problem(part)
        if problem is not None:
            raise ConfigurationError(
                f"invalid table name {name!r}: the {label} part {part!r}: {problem}; {_EXPECTED}"
            )
    return TableName(*parts)
