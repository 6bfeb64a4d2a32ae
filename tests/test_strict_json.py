"""One JSON reading rule for user input: finite numbers, every object key once."""

from __future__ import annotations

import pytest

from zerobus.json_depth import loads_within_depth
from zerobus.strict_json import DuplicateKeyError, NotJsonError, strict_decoder


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"a": 1, "a": 1}', "a"),
        ('{"a": 1, "b": {"c": 2, "c": 3}}', "c"),
        ('[{"x": 1}, {"y": 1, "y": 2}]', "y"),
        ('{"": 1, "": 2}', ""),
        ('{"\\u00e9": 1, "\u00e9": 2}', "\u00e9"),  # an escape and the character are one key
    ],
)
def test_a_key_given_twice_is_refused_naming_it(text: str, key: str) -> None:
    for decode in (strict_decoder().decode, loads_within_depth):
        with pytest.raises(DuplicateKeyError, match=f"key {key!r} appears more than once"):
            decode(text)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(token: str) -> None:
    for decode in (strict_decoder().decode, loads_within_depth):
        with pytest.raises(NotJsonError, match=f"{token} is not a JSON number"):
            decode(f'{{"x": [{token}]}}')


def test_distinct_keys_and_other_hooks_still_work() -> None:
    assert strict_decoder().decode('{"a": 1, "b": {"a": 2}}') == {"a": 1, "b": {"a": 2}}
    assert strict_decoder(parse_float=str).decode('{"f": 1.50}') == {"f": "1.50"}
