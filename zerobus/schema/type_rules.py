"""Internal: Rules every schema parser enforces, whatever the input format (type text, DDL, Spark JSON).

Kept apart so the text grammar (`parse`) and the JSON readers (`uc_json`) refuse the same
schemas with the same words.
"""

from __future__ import annotations

from zerobus.errors import SchemaError

__all__ = ["MAX_TYPE_DEPTH", "check_unique_names", "too_deep_reason"]

# Types nest at most this deep (``array<int>`` is 2 levels): deeper ones are refused with a
# SchemaError naming the column, never a RecursionError, and every layer that walks a type
# (descriptors, protobuf's own parser, the converters) stays far from Python's recursion limit.
MAX_TYPE_DEPTH = 64


def too_deep_reason() -> str:
    return f"type nested more than {MAX_TYPE_DEPTH} levels deep (at most {MAX_TYPE_DEPTH} are supported)"


def check_unique_names(names: list[str], path: str) -> None:
    """Refuse a repeated column or field name: Delta compares names without case."""
    seen: set[str] = set()
    for name in names:
        key = name.lower()  # Delta column names are case-insensitive
        if key in seen:
            full = f"{path}.{name}" if path else name
            raise SchemaError("duplicate name (names are case-insensitive)", full)
        seen.add(key)
