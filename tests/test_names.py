"""Table names are checked exactly, once, before anything reaches the network."""

from __future__ import annotations

import pytest

from zerobus.errors import ConfigurationError
from zerobus.names import check_name_part, parse_table_name
from zerobus.sdk.shared.table_properties import TableProperties

# Look-alikes of a valid name, each refused for its own reason.
BAD_NAMES = [
    ("main.default.events\n", "'\\n'"),
    ("\nmain.default.events", "'\\n'"),
    ("main.default.events ", "' '"),
    (" main.default.events", "' '"),
    ("main.default.ev ents", "' '"),
    ("main.default.events\t", "'\\t'"),
    ("main.default.events\x00", "'\\x00'"),
    ("main.default.événements", "U+00E9"),
    ("main.default.t\uff11", "U+FF11"),  # a fullwidth digit: `str.isalnum` and `\w` accept it
    ("main.default.t\u0663", "U+0663"),  # an Arabic-Indic digit
    ("main.default." + "t" * 256, "256 characters"),
    ("main." + "s" * 256 + ".t", "256 characters"),
    ("main..events", "empty"),
    (".default.events", "empty"),
    ("main.default.", "empty"),
    ("main.events", "has 2 dot-separated parts"),
    ("a.b.c.d", "has 4 dot-separated parts"),
    ("main.`de.fault`.events", "has 4 dot-separated parts"),
    ("`main`.default.events", "'`'"),
    ("main-x.default.events", "'-'"),
    ("", "has 1 dot-separated parts"),
]


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
def test_look_alike_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_table_name(name)
    message = str(refused.value)
    assert repr(name) in message and reason in message
    assert "\n" not in message  # one line, even for a name with a newline


@pytest.mark.parametrize(("name", "reason"), BAD_NAMES)
def test_table_properties_refuses_them_before_any_network_call(name: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid table name"):
        TableProperties(name)


@pytest.mark.parametrize("name", ["main.default.events", "a.b.c", "C_1.s_2._t", "x." + "y" * 255 + ".z"])
def test_valid_names_pass_unchanged(name: str) -> None:
    assert parse_table_name(name).full_name == name
    assert TableProperties(name).table_name == name


def test_non_string_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="must be a string"):
        parse_table_name(b"a.b.c")
    with pytest.raises(ConfigurationError, match="catalog_name must be a string"):
        check_name_part(12, "catalog_name")


@pytest.mark.parametrize("part", ["ok\n", "", "é", "x" * 256, "a.b"])
def test_single_parts_use_the_same_rule(part: str) -> None:
    with pytest.raises(ConfigurationError, match="invalid schema_name"):
        check_name_part(part, "schema_name")
    assert check_name_part("ok_1", "schema_name") == "ok_1"


def test_assigning_a_table_name_is_checked_too() -> None:
    properties = TableProperties("main.default.events")
    with pytest.raises(ConfigurationError, match="invalid table name"):
        properties.table_name = "main.default.events\n"
    assert properties.table_name == "main.default.events"
    properties.table_name = "main.default.other"
    assert properties.parsed_name.table == "other"
