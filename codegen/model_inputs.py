"""Internal: Raw values given to a model's DATE, TIMESTAMP and DECIMAL fields read as the dict path reads them.

Pydantic's lax mode reads an integer for a datetime as Unix seconds (or milliseconds, by size),
an integer for a date as seconds, and takes a float for a Decimal. The table contract (and the
SDK's dict path) says otherwise: TIMESTAMP integers are microseconds, DATE integers are days,
and floats are refused for DECIMAL. So before Pydantic sees them, integers, numbers and strings
given for those fields go through the very converters of `zerobus.schema.python_to_wire`, with the
same automatic unit check and the same messages; dates and datetimes pass untouched.
"""

from __future__ import annotations

import datetime as dt
import decimal
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import AwareDatetime, BaseModel, NaiveDatetime

from zerobus.errors import InvalidRecordError
from zerobus.schema.decimal_values import float_for_decimal
from zerobus.schema.epoch import days_to_date, micros_to_datetime
from zerobus.schema.ir import Primitive, PrimitiveType
from zerobus.schema.python_to_wire import to_wire

__all__ = ["read_raw_values"]

Guard = Callable[[Any], Any]
_RAW = (int, float, str)
# Values Pydantic reads right as they are; the exact types first, as one cheap set lookup.
_PASSING = (dt.date, decimal.Decimal, BaseModel)
_PASSING_TYPES = frozenset({dt.datetime, dt.date, decimal.Decimal})
# Per field: the keys its value may come under (column name, attribute name), and its guard.
Plan = tuple[tuple[tuple[str, ...], Guard], ...]
# Per model class, per field-path prefix (a nested struct is checked with its parent's path).
_GUARDS: weakref.WeakKeyDictionary[type, dict[str, Plan]] = weakref.WeakKeyDictionary()


def read_raw_values(model: type[BaseModel], data: Any, prefix: str = "") -> Any:
    """`data` (a model's input) with raw DATE/TIMESTAMP/DECIMAL values converted or refused."""
    if type(data) is not dict and not isinstance(data, Mapping):
        return data
    plans = _GUARDS.get(model)
    if plans is None:
        plans = _GUARDS[model] = {}
    guards = plans.get(prefix)
    if guards is None:
        guards = plans[prefix] = _plan(model, prefix)
    if not guards:
        return data
    out: dict[Any, Any] | None = None
    for keys, guard in guards:
        for key in keys:
            value = data.get(key)
            if value is None or type(value) in _PASSING_TYPES or isinstance(value, _PASSING):
                continue
            read = guard(value)
            if read is not value:
                out = dict(data) if out is None else out
                out[key] = read
    return data if out is None else out


def _plan(model: type[BaseModel], prefix: str) -> Plan:
    plan = []
    for attr, info in model.model_fields.items():
        column = info.alias or attr
        guard = _guard(info.annotation, prefix + column)
        if guard is not None:
            plan.append(((column,) if column == attr else (column, attr), guard))
    return tuple(plan)


def _guard(annotation: Any, path: str) -> Guard | None:
    """The check of a raw value for `annotation`, None when Pydantic's own reading is right."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        if base is decimal.Decimal:
            return _no_float(path, _decimal_type_text(metadata))
        return _guard(base, path)
    if origin in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _guard(members[0], path) if len(members) == 1 else None
    if origin is list:
        return _each(_guard(typing.get_args(annotation)[0], f"{path}[]"), path)
    if origin is dict:
        return _each_value(_guard(typing.get_args(annotation)[1], f"{path}[]"), path)
    if annotation is AwareDatetime:
        return _scalar(Primitive.TIMESTAMP, path, micros_to_datetime)
    if annotation is NaiveDatetime:
        return _scalar(Primitive.TIMESTAMP_NTZ, path, lambda micros: micros_to_datetime(micros, aware=False))
    if annotation is dt.date:
        return _scalar(Primitive.DATE, path, days_to_date)
    if annotation is decimal.Decimal:
        return _no_float(path, "DECIMAL")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _struct(annotation, path)
    return None


def _decimal_type_text(metadata: list[Any]) -> str:
    """``decimal(p,s)`` from a constrained Decimal's metadata, as the dict path names it."""
    for item in metadata:
        for constraint in [item, *getattr(item, "metadata", ())]:
            digits = getattr(constraint, "max_digits", None)
            places = getattr(constraint, "decimal_places", None)
            if digits is not None and places is not None:
                return f"decimal({digits},{places})"
    return "DECIMAL"


def _struct(model: type[BaseModel], path: str) -> Guard | None:
    if not _plan(model, f"{path}."):
        return None  # nothing in the struct needs reading

    def guard(value: Any) -> Any:
        return read_raw_values(model, value, f"{path}.")

    return guard


def _scalar(primitive: Primitive, path: str, from_wire: Callable[[int], Any]) -> Guard:
    convert = to_wire(PrimitiveType(primitive), path)

    def guard(value: Any) -> Any:
        return from_wire(convert(value)) if isinstance(value, _RAW) else value

    return guard


def _no_float(path: str, type_text: str) -> Guard:
    def guard(value: Any) -> Any:
        if isinstance(value, float):
            raise InvalidRecordError(path, value, float_for_decimal(type_text))
        return value

    return guard


def _each(element: Guard | None, path: str) -> Guard | None:
    if element is None:
        return None

    def guard(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for index, item in enumerate(value):
            try:
                out.append(element(item) if item is not None else item)
            except InvalidRecordError as error:
                field = error.field.replace(f"{path}[]", f"{path}[{index}]", 1)
                raise InvalidRecordError(field, error.value, error.reason) from None
        return value if all(a is b for a, b in zip(out, value, strict=True)) else out

    return guard


def _each_value(element: Guard | None, path: str) -> Guard | None:
    if element is None:
        return None

    def guard(value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out = {}
        for key, item in value.items():
            try:
                out[key] = element(item) if item is not None else item
            except InvalidRecordError as error:
                field = error.field.replace(f"{path}[]", f"{path}[{key!r}]", 1)
                raise InvalidRecordError(field, error.value, error.reason) from None
        return value if all(out[key] is item for key, item in value.items()) else out

    return guard
