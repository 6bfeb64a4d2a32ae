"""Internal: JSON as the service reads it: finite numbers only, and every object key once.

Python's `json` accepts two things JSON readers elsewhere refuse or read differently: the tokens
NaN, Infinity and -Infinity, and an object naming the same key twice (it keeps the last value,
silently dropping the first). A record whose columns depend on which duplicate a reader keeps is
ambiguous data, so every place that reads user JSON (SDK JSON records, VARIANT text, the local
server's JSON records, file ingestion) refuses both, through these hooks.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DuplicateKeyError", "NotJsonError", "refuse_constant", "strict_decoder", "unique_keys"]


class NotJsonError(ValueError):
    """A NaN/Infinity token: Python's json module reads it, JSON does not have it."""


class DuplicateKeyError(ValueError):
    """An object names the same key twice."""


def refuse_constant(token: str) -> Any:
    """`parse_constant` hook: NaN, Infinity and -Infinity are not JSON numbers."""
    raise NotJsonError(
        f"{token} is not a JSON number (JSON numbers are finite: NaN and Infinity have no spelling)"
    )


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook`: the object as a dict, or an error naming a key given twice."""
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(f"key {key!r} appears more than once in one object")
            seen.add(key)
    return value


def strict_decoder(**options: Any) -> json.JSONDecoder:
    """A decoder that refuses NaN/Infinity and duplicate keys (`options`: other JSONDecoder hooks)."""
    return json.JSONDecoder(parse_constant=refuse_constant, object_pairs_hook=unique_keys, **options)
