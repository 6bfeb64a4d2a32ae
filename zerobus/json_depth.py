"""Internal: How deeply JSON nests, measured without recursion, so deep input is refused by name.

Python's `json` recurses once per level and raises `RecursionError` somewhere near a thousand
levels, depending on how deep the caller's stack already is. Every place that reads or writes
user JSON (SDK records, REST bodies, saved table JSON) checks the depth against one limit first
and reports it as the normal error of that place ("nested 5000 levels deep, at most 512").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from zerobus.strict_json import strict_decoder

__all__ = [
    "MAX_JSON_DEPTH",
    "JsonTooDeep",
    "check_json_text_depth",
    "json_text_depth",
    "loads_within_depth",
    "rendered_depth_problem",
    "value_depth",
]

# Deep enough for any table JSON of a type at the deepest nesting codegen accepts (64 levels
# of STRUCT take about 200), far enough from the interpreter's recursion limit.
MAX_JSON_DEPTH = 512

_strict_decode = strict_decoder().decode

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class JsonTooDeep(ValueError):
    """JSON nested deeper than `limit`; `depth` is how deep it goes."""

    def __init__(self, depth: int, limit: int) -> None:
        super().__init__(f"JSON nested {depth} levels deep (at most {limit} levels are supported)")
        self.depth = depth
        self.limit = limit


def json_text_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (brackets inside strings ignored)."""
    if "[" not in text and "{" not in text:
        return 0
    steps = [1 if ch in "[{" else -1 for ch in _BRACKET.findall(_STRING.sub("", text))]
    return max(accumulate(steps), default=0)


def check_json_text_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """`JsonTooDeep` if `text` nests deeper than `limit` (cheap when it has few brackets)."""
    if text.count("[") + text.count("{") > limit:
        depth = json_text_depth(text)
        if depth > limit:
            raise JsonTooDeep(depth, limit)


def loads_within_depth(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """The strict decoder's value for `text` (`zerobus.strict_json`: no NaN/Infinity, no key given
    twice), or `JsonTooDeep` (a ValueError) when it nests deeper than `limit`."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")  # a UnicodeDecodeError is a ValueError too
    check_json_text_depth(text, limit)
    return _strict_decode(text)


def value_depth(value: Any, cap: int = 100_000) -> int:
    """How deeply Python containers (mappings, lists, tuples, sets) nest, without recursion.

    Counting stops at `cap` (a container that holds itself nests without end).
    """
    deepest = 0
    reached: dict[int, int] = {}  # container id -> deepest level it was found at
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, (list, tuple, set, frozenset)):
            children = item
        else:
            continue
        if reached.get(id(item), 0) >= depth:
            continue  # shared: already walked from at least this deep
        reached[id(item)] = depth
        deepest = max(deepest, depth)
        if depth < cap:
            pending.extend((child, depth + 1) for child in children)
    return deepest


def rendered_depth_problem(value: Any, text: str | None) -> str | None:
    """Why `value`, rendered as JSON `text`, nests too deeply; None if it does not.

    `text` is None when rendering itself hit the recursion limit: the depth is then measured
    on `value`.
    """
    if text is not None:
        try:
            check_json_text_depth(text)
        except JsonTooDeep as error:
            return str(error)
        return None
    return str(JsonTooDeep(value_depth(value), MAX_JSON_DEPTH))
