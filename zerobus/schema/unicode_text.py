"""Internal: Whether a wire value is text a Delta string column can hold, and JSON text strict enough for VARIANT.

Delta (Parquet, Arrow) stores strings as UTF-8. Two kinds of value look like text but have no
UTF-8 form: a Python `str` holding a lone UTF-16 surrogate (what a JSON ``\\ud800`` escape
decodes to), and the `bytes` upb hands back for a proto2 `string` field whose bytes are not
UTF-8 (proto2 does not validate them). Both must be refused when a record arrives: accepted,
they would fail every later write of their table.

JSON text for VARIANT is parsed strictly: NaN and Infinity are not JSON, and an escaped lone
surrogate decodes to a string no JSON reader in the Delta ecosystem accepts.
"""

from __future__ import annotations

import re
from typing import Any

from zerobus.json_depth import check_json_text_depth
from zerobus.strict_json import strict_decoder

__all__ = ["has_lone_surrogate", "json_text_problem", "text_problem", "texts_are_unicode"]

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


_strict_decode = strict_decoder().decode


def has_lone_surrogate(text: str) -> bool:
    """Whether `text` holds a surrogate code point (never part of valid Unicode text)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def texts_are_unicode(texts: list[str]) -> bool:
    """Whether no string of `texts` holds a lone surrogate (ASCII strings cost nothing)."""
    return all(map(str.isascii, texts)) or not any(map(_SURROGATE.search, texts))


def text_problem(value: str | bytes) -> str | None:
    """Why `value` (a `str`, or the `bytes` of an undecodable proto2 string) is not storable text."""
    if isinstance(value, str):
        found = _SURROGATE.search(value) if not value.isascii() else None
        if found is None:
            return None
        return (
            f"holds a lone UTF-16 surrogate {found.group()!r} at index {found.start()}: "
            "not valid Unicode, it has no UTF-8 form"
        )
    try:
        bytes(value).decode("utf-8")
    except UnicodeDecodeError as error:
        return f"not valid UTF-8 text ({error.reason} at byte {error.start})"
    return None


def json_text_problem(text: str) -> str | None:
    """Why `text` is not strict JSON (RFC 8259, valid Unicode throughout); None if it is."""
    problem = text_problem(text)
    if problem is not None:
        return problem
    try:
        check_json_text_depth(text)  # deep JSON is refused by depth, not by a RecursionError
        value = _strict_decode(text)
    except ValueError as error:
        return str(error)
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(value):
        return "escapes a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair): not valid Unicode"
    return None


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return has_lone_surrogate(value)
    if isinstance(value, list):
        return any(map(_holds_lone_surrogate, value))
    if isinstance(value, dict):
        return any(map(has_lone_surrogate, value)) or any(map(_holds_lone_surrogate, value.values()))
    return False
