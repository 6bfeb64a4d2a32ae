"""Internal: Check a whole batch of decoded records at once, without building a dict per record.

The reference check of a record is `codegen.values.wire_row_check` on its wire row (a dict
made by `descriptor.message_reader`). That is several Python calls a record, although most
columns need nothing: upb already guarantees the proto type. `batch_check` compiles, once per
stream, only the checks the table's column types need (narrow ints, DATE and TIMESTAMP ranges,
string types (upb hands back `bytes` for a proto2 string that is not UTF-8),
VARCHAR/CHAR lengths, DECIMAL text, VARIANT JSON, NOT NULL fields declared `optional`, nested
ones inside structs, arrays and maps) into passes over the batch made of C-level iterators
(`map`, `filter`, `attrgetter`, `min`/`max`), so a 1000-record batch costs a few of them
instead of 1000 Python calls per column, and a table whose columns need no check costs nothing.

The batch check only answers "is every record fine?". It must agree with the reference:
never False when every record passes it, never True when one fails it (tests/server compare
the two on generated records). On False the caller runs the reference check record by record,
which names the record, the column, the value and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import chain, filterfalse
from operator import attrgetter, methodcaller
from typing import Any

from zerobus.schema.delta_types_table import DELTA_TYPES
from zerobus.schema.descriptor import is_repeated
from zerobus.schema.ir import (
    ArrayType,
    DataType,
    DecimalType,
    MapType,
    Primitive,
    PrimitiveType,
    StringType,
    StructField,
    StructType,
)
from zerobus.schema.wire_checks import wire_check

__all__ = ["BatchCheck", "batch_check", "passes_check"]

BatchCheck = Callable[[Iterable[Any]], bool]
# Messages (or values) in, the values one level down out; all lazy C-level iterators.
_Source = Callable[[Iterable[Any]], Iterable[Any]]
_Probe = Callable[[Iterable[Any]], bool]

# The integer columns whose wire range is narrower than their proto scalar's: decoding alone does not check it.
_RANGES: dict[Primitive, tuple[int, int]] = {
    primitive: row.wire_range
    for primitive, row in DELTA_TYPES.items()
    if row.range_checked and row.wire_range is not None
}


def batch_check(
    descriptor: Any, struct: StructType, required: frozenset[str] = frozenset()
) -> BatchCheck | None:
    """Compile the batch check of records of `descriptor` for a table (`struct`); None if none is needed.

    `descriptor` is the record's runtime `Descriptor`, already checked against the table
    (`schema_check.compile_descriptor`). `required` names the top-level fields it declares
    `required`: those are the decoder's business (`IsInitialized`), not this check's.
    """
    probes: list[_Probe] = []
    _walk(descriptor, struct, _identity, _identity, required, probes)
    if not probes:
        return None
    if len(probes) == 1:
        return probes[0]
    all_probes = tuple(probes)

    def check(records: Iterable[Any]) -> bool:
        # One list keeps the Python wrappers of the records alive across the passes.
        messages = records if type(records) is tuple else list(records)
        return all(probe(messages) for probe in all_probes)

    return check


def _identity(items: Iterable[Any]) -> Iterable[Any]:
    return items


def _walk(
    descriptor: Any,
    struct: StructType,
    present: _Source,
    anyway: _Source,
    required: frozenset[str],
    probes: list[_Probe],
) -> None:
    """Add the probes for the fields of messages yielded by `present` (set ones) / `anyway` (all)."""
    members = _members(struct)
    for field in descriptor.fields:
        name = field.name
        member = members.get(name) or members.get(name.lower())
        if member is None:  # cannot happen for a checked descriptor; leave it to the reference
            probes.append(_never)
            continue
        data_type = member.type
        target = field.message_type
        get = attrgetter(name)
        if target is not None and target.GetOptions().map_entry:
            if not isinstance(data_type, MapType):
                probes.append(_never)
                continue
            maps = _then(anyway, _mapped(get))
            keys = _then(maps, chain.from_iterable)
            values = _then(_then(maps, _mapped(methodcaller("values"))), chain.from_iterable)
            key_field, value_field = target.fields_by_name["key"], target.fields_by_name["value"]
            _element(key_field, data_type.key, keys, probes)
            _element(value_field, data_type.value, values, probes)
        elif is_repeated(field):
            if not isinstance(data_type, ArrayType):
                probes.append(_never)
                continue
            elements = _then(_then(anyway, _mapped(get)), chain.from_iterable)
            _element(field, data_type.element, elements, probes)
        else:
            if not member.nullable and name not in required:
                probes.append(_all_set(present, name))
            set_values = _then(present, _set_only(name, get))
            all_values = _then(anyway, _mapped(get))
            if target is not None:
                if not isinstance(data_type, StructType):
                    probes.append(_never)
                    continue
                _walk(target, data_type, set_values, all_values, frozenset(), probes)
            else:
                _leaf(field, data_type, set_values, all_values, probes)


def _element(field: Any, data_type: DataType, elements: _Source, probes: list[_Probe]) -> None:
    """An array element, map key or map value: always present, message or scalar."""
    target = field.message_type
    if target is not None:
        if not isinstance(data_type, StructType):
            probes.append(_never)
            return
        _walk(target, data_type, elements, elements, frozenset(), probes)
    else:
        _leaf(field, data_type, elements, elements, probes)


def _leaf(
    field: Any, data_type: DataType, set_values: _Source, all_values: _Source, probes: list[_Probe]
) -> None:
    check = wire_check(data_type)
    if check is None:
        return
    # An unset field reads as its default; if the check accepts that, no presence test is needed
    # anywhere on the way (an unset struct reads as a message of defaults).
    values = all_values if passes_check(check)(field.default_value) else set_values
    probes.append(_leaf_probe(data_type, check, values))


def _leaf_probe(data_type: DataType, check: Callable[[Any], None], values: _Source) -> _Probe:
    passes = passes_check(check)
    if isinstance(data_type, PrimitiveType) and data_type.primitive in _RANGES:
        low, high = _RANGES[data_type.primitive]

        def in_range(records: Iterable[Any]) -> bool:
            found = list(values(records))
            return not found or (low <= min(found) and max(found) <= high)

        return in_range
    if isinstance(data_type, StringType):
        # upb returns bytes, not str, for a proto2 string field that is not UTF-8.
        length = data_type.length
        if length is None:
            return lambda records: _all_text(values(records))

        def short_text(records: Iterable[Any]) -> bool:
            found = list(values(records))
            return _all_text(found) and max(map(len, found), default=0) <= length

        return short_text
    if isinstance(data_type, DecimalType):
        canonical = _canonical_decimal(data_type).fullmatch

        def decimal_text(records: Iterable[Any]) -> bool:
            # Canonical text is accepted by a regex; anything else goes through the full check.
            found = list(values(records))
            return _all_text(found) and all(map(passes, filterfalse(canonical, found)))

        return decimal_text

    def each(records: Iterable[Any]) -> bool:
        return all(map(passes, values(records)))

    return each


def _all_text(values: Iterable[Any]) -> bool:
    return set(map(type, values)) <= _TEXT


_TEXT = {str}


def _canonical_decimal(data_type: DecimalType) -> re.Pattern[str]:
    """Plain decimal text that surely fits: at most p-s integer digits, at most s fractional."""
    integer_digits = data_type.precision - data_type.scale
    integer = "0" if integer_digits <= 0 else f"(?:0|[1-9][0-9]{{0,{integer_digits - 1}}})"
    fraction = f"(?:\\.[0-9]{{1,{data_type.scale}}})?" if data_type.scale > 0 else ""
    return re.compile(f"-?{integer}{fraction}")


def passes_check(check: Callable[[Any], None]) -> Callable[[Any], bool]:
    def passes(value: Any) -> bool:
        try:
            check(value)
        except Exception:  # InvalidRecordError, or whatever the reference path will raise itself
            return False
        return True

    return passes


def _all_set(present: _Source, name: str) -> _Probe:
    has = methodcaller("HasField", name)

    def all_set(records: Iterable[Any]) -> bool:
        return all(map(has, present(records)))

    return all_set


def _never(records: Iterable[Any]) -> bool:
    return False


def _then(source: _Source, step: _Source) -> _Source:
    if source is _identity:
        return step
    return lambda items: step(source(items))


def _mapped(get: Callable[[Any], Any]) -> _Source:
    return lambda items: map(get, items)


def _set_only(name: str, get: Callable[[Any], Any]) -> _Source:
    has = methodcaller("HasField", name)
    return lambda items: map(get, filter(has, items))


def _members(struct: StructType) -> dict[str, StructField]:
    """Members by name and by lower-cased name (descriptors match tables case-insensitively)."""
    found: dict[str, StructField] = {}
    for member in struct.fields:
        found.setdefault(member.name.lower(), member)
    for member in struct.fields:
        found[member.name] = member
    return found
