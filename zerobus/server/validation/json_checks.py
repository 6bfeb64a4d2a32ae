"""Internal: Check a whole batch of parsed JSON records column by column, and parse JSON records cheaply.

The reference check of a JSON record is `codegen.values.wire_row_check(schema, json_mode=True)`
on the parsed object: a chain of Python calls per record. `json_batch_check` compiles the same
rules into passes over the batch, one column at a time, made of C-level iterators: the types of
a column's values as one `set`, integer ranges as `min`/`max`, string lengths as `max(map(len))`,
unknown keys as one set union. Types with no such shortcut (DECIMAL, VARIANT, BINARY, ARRAY,
MAP, STRUCT) run the reference check of that column value by value. The answer is only "is
every record fine?" and agrees with the reference either way; the caller words the error by
running the reference record by record when it is False.

`loads` parses a record (refusing a key given twice, `zerobus.strict_json`) with the decoder's
public `raw_decode`, which skips `decode`'s whitespace handling, and leaves anything unusual
(leading or trailing whitespace, a byte-order mark, extra data) to `json.loads` itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from math import isfinite
from operator import is_not
from typing import Any

from zerobus.schema.delta_types_table import DELTA_TYPES, FLOAT32_MAX, ValueKind
from zerobus.schema.ir import DataType, Primitive, PrimitiveType, StringType, TableSchema
from zerobus.schema.unicode_text import texts_are_unicode
from zerobus.schema.wire_checks import wire_check
from zerobus.server.validation.message_checks import passes_check
from zerobus.strict_json import unique_keys

__all__ = ["JsonBatchCheck", "json_batch_check", "loads"]

JsonBatchCheck = Callable[[list[Any]], bool]
_ColumnProbe = Callable[[list[Any]], bool]

# Columns written as JSON integers, with the range of valid wire values (DATE days, timestamp micros).
_INT_RANGES: dict[Primitive, tuple[int, int]] = {
    primitive: row.wire_range for primitive, row in DELTA_TYPES.items() if row.wire_range is not None
}
# Duplicate keys are refused while parsing; NaN/Infinity are parsed and then refused by the
# column checks, whose error names the field they are in.
_raw_decode = json.JSONDecoder(object_pairs_hook=unique_keys).raw_decode
_not_none = partial(is_not, None)


def loads(text: str) -> Any:
    """`json.loads(text)` with duplicate keys refused: the same value, or an error, for every `str`."""
    try:
        value, end = _raw_decode(text)
    except json.JSONDecodeError:
        return json.loads(text, object_pairs_hook=unique_keys)  # not a value at 0: json.loads says why
    if end != len(text):
        return json.loads(text, object_pairs_hook=unique_keys)  # trailing whitespace is fine, not extra data
    return value


def json_batch_check(schema: TableSchema) -> JsonBatchCheck:
    """Compile the batch check of parsed JSON records for the table (see the module docstring)."""
    names = frozenset(column.name for column in schema.columns)
    probes = [_column_probe(column.name, column.type, column.nullable) for column in schema.columns]

    def check(rows: list[Any]) -> bool:
        if not rows:
            return True
        if set(map(type, rows)) != {dict}:
            return False
        if not set().union(*rows) <= names:
            return False
        return all(probe(rows) for probe in probes)

    return check


def _column_probe(name: str, data_type: DataType, nullable: bool) -> _ColumnProbe:
    value_probe = _value_probe(data_type)

    def probe(rows: list[Any]) -> bool:
        values = [row.get(name) for row in rows]  # None for a missing key, as for a null
        if None in values:
            if not nullable:
                return False
            values = list(filter(_not_none, values))
        return not values or value_probe(values)

    return probe


def _value_probe(data_type: DataType) -> Callable[[list[Any]], bool]:
    """Whether every (non-null) value of a column is fine."""
    reference = _each(data_type)
    if isinstance(data_type, PrimitiveType):
        primitive = data_type.primitive
        if primitive in _INT_RANGES:
            low, high = _INT_RANGES[primitive]
            return lambda values: (
                set(map(type, values)) == {int} and low <= min(values) and max(values) <= high
            )
        row = DELTA_TYPES[primitive]
        if row.kind is ValueKind.BOOLEAN:
            return lambda values: set(map(type, values)) == {bool}
        if row.kind is ValueKind.FLOATING and not row.float32:
            # Integers are accepted too, but only the reference knows which convert to a float.
            # NaN and Infinity are not JSON (1e999 parses as Infinity): finite floats only.
            return lambda values: (
                (set(map(type, values)) == {float} and all(map(isfinite, values))) or reference(values)
            )
        if row.kind is ValueKind.FLOATING:
            return lambda values: (
                (
                    set(map(type, values)) == {float}
                    and all(map(isfinite, values))
                    and max(map(abs, values)) <= FLOAT32_MAX
                )
                or reference(values)
            )
    if isinstance(data_type, StringType):
        # A JSON \ud800 escape decodes to a lone surrogate, which has no UTF-8 form.
        length = data_type.length
        if length is None:
            return lambda values: set(map(type, values)) == {str} and texts_are_unicode(values)
        return lambda values: (
            set(map(type, values)) == {str} and max(map(len, values)) <= length and texts_are_unicode(values)
        )
    return reference


def _each(data_type: DataType) -> Callable[[list[Any]], bool]:
    """The reference check of `data_type`, value by value."""
    check = wire_check(data_type, "", json_mode=True)
    assert check is not None  # JSON values are always checked: JSON text carries no types
    passes = passes_check(check)
    return lambda values: all(map(passes, values))
