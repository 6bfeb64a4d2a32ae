"""Internal: JSON record text: exactly one JSON object that the wire can carry, checked at the ingest call.

A JSON record travels as a protobuf string, i.e. UTF-8. Text the wire cannot carry (a lone
surrogate) or the service cannot read (several values, an array, NaN or Infinity, which are not
JSON, or a key given twice) would otherwise fail the whole stream later, in the sender; here it fails the one ingest
call that brought it, with the reason, and the stream goes on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from zerobus.errors import InvalidRecordError
from zerobus.json_depth import check_json_text_depth
from zerobus.strict_json import strict_decoder

__all__ = ["parse_json_record", "require_utf8"]

# A \uD800-\uDFFF escape: half of a surrogate pair, valid only next to its other half.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


_decode = strict_decoder().decode


def require_utf8(text: str, record: Any) -> None:
    """Refuse text that has no UTF-8 form (lone surrogates): the wire could not carry it."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRecordError(
            "",
            record,
            f"holds a lone surrogate {text[error.start]!r} at index {error.start}: not valid UTF-8",
        ) from None


def parse_json_record(text: str) -> dict[str, Any]:
    """The one JSON object `text` holds; anything else is an `InvalidRecordError` saying what is wrong."""
    require_utf8(text, text)
    try:
        check_json_text_depth(text)  # refused by depth, before the parser's recursion limit
        value = _decode(text)
    except ValueError as error:  # JSONDecodeError and JsonTooDeep included
        raise InvalidRecordError("", text, f"not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InvalidRecordError(
            "", text, f"a JSON record must be an object (exactly one), got {_json_kind(value)}"
        )
    if _SURROGATE_ESCAPE.search(text):
        # Escaped halves of a surrogate pair decode to one character; a lone one does not.
        require_utf8(json.dumps(value, ensure_ascii=False), text)
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
