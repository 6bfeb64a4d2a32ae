"""Internal: PROTO records: the stream's own message, bytes, dicts, Pydantic models, JSON text.

The fast paths cost what the protobuf runtime costs: an instance of the record class is
serialized as it is, bytes pass through, and a dict goes straight into the message constructor
once the few fields that need it are converted (dates, timestamps, decimals, narrow integers,
nested values: compiled once per schema with `zerobus.schema.python_to_wire.to_wire`). Only when the
runtime refuses a record is the record walked again, to say which field, which value and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf.message import EncodeError, Message

from zerobus.encoders.base import Payload, RecordEncoder, is_model_instance, is_pydantic_instance
from zerobus.encoders.json_text import parse_json_record
from zerobus.encoders.record_schemas import RecordSchema
from zerobus.errors import InvalidRecordError
from zerobus.protocol import RecordTypeValue
from zerobus.schema.delta_types_table import (
    DELTA_TYPES,
    MAX_DATE_DAYS,
    MAX_TIMESTAMP_MICROS,
    MIN_DATE_DAYS,
    MIN_TIMESTAMP_MICROS,
    ValueKind,
    WireUnit,
)
from zerobus.schema.descriptor import message_builder
from zerobus.schema.ir import Primitive, PrimitiveType, StringType, TableSchema
from zerobus.schema.python_to_wire import row_to_wire, to_wire
from zerobus.schema.time_units import AUTO_UNITS, MILLIS_BELOW, NANOS_FROM, IntegerUnits

__all__ = ["ProtoEncoder", "compile_dict_encoder"]

# Timestamp integers the automatic unit check accepts without a closer look (the positive side;
# negative ones take the converter, which applies the whole rule).
_AUTO_TIMESTAMP_BOUNDS = (MILLIS_BELOW, min(NANOS_FROM - 1, MAX_TIMESTAMP_MICROS))


def _int_bounds(data_type: Any, units: IntegerUnits) -> tuple[int, int] | None:
    """The ints a column takes untouched (already wire values, surely valid); None: always convert."""
    if not isinstance(data_type, PrimitiveType):
        return None
    row = DELTA_TYPES[data_type.primitive]
    if row.wire_unit is WireUnit.MICROS:
        if units.timestamp is None:
            return _AUTO_TIMESTAMP_BOUNDS
        return (MIN_TIMESTAMP_MICROS, MAX_TIMESTAMP_MICROS) if units.timestamp == "us" else None
    if row.wire_unit is WireUnit.DAYS:
        return (MIN_DATE_DAYS, MAX_DATE_DAYS) if units.date in (None, "days") else None
    # Narrow integers given as ints in range need no conversion; the constructor checks the others.
    return row.wire_range if row.kind is ValueKind.INTEGER and row.range_checked else None


# Columns the message constructor can take as they are when the value has exactly this type (it
# range-checks INT/BIGINT itself). Any other type goes through `to_wire`: the protobuf runtime
# would coerce True to 1.0 for a DOUBLE, 1 to True for a BOOLEAN, bytes into a STRING, and (on
# protobuf 5) True to 1 for an INT, where the table contract refuses them.
_EXACT_TYPES: dict[Primitive, type] = {
    primitive: row.exact_python_type
    for primitive, row in DELTA_TYPES.items()
    if row.exact_python_type is not None and not row.range_checked
}


def compile_dict_encoder(
    message_class: Any, schema: TableSchema, units: IntegerUnits = AUTO_UNITS
) -> Callable[[Mapping[str, Any]], bytes]:
    """dict -> serialized message, converting only the values that need it.

    A value already in wire form (a float for a DOUBLE, a TIMESTAMP given as microseconds) is
    left alone; the caller's dict is copied only when a value really changes. The columns are
    sorted once into three kinds so that a value already in wire form costs one type check
    inline, not a call.
    """
    exact: list[tuple[str, type, Callable[[Any], Any]]] = []  # passes when of exactly this type
    bounded: list[tuple[str, int, int, Callable[[Any], Any]]] = []  # passes as an int in bounds
    converted: list[tuple[str, Callable[[Any], Any]]] = []  # always converted
    for column in schema.columns:
        convert = to_wire(column.type, column.name, units=units)
        expected = _exact_type(column.type)
        bounds = _int_bounds(column.type, units)
        if expected is not None:
            exact.append((column.name, expected, convert))
        elif bounds is not None:
            bounded.append((column.name, *bounds, convert))
        else:
            converted.append((column.name, convert))
    exact_columns, bounded_columns, converted_columns = tuple(exact), tuple(bounded), tuple(converted)
    explain = _explainer(message_class, schema, units)
    build = message_builder(message_class)

    def encode_dict(record: Mapping[str, Any]) -> bytes:
        values = record
        get = record.get
        for name, expected, convert in exact_columns:
            value = get(name)
            if value is not None and type(value) is not expected:
                values = _with_value(values, record, name, value, convert(value))
        for name, low, high, convert in bounded_columns:
            value = get(name)
            if value is not None and not (type(value) is int and low <= value <= high):
                values = _with_value(values, record, name, value, convert(value))
        for name, convert in converted_columns:
            value = get(name)
            if value is not None:
                values = _with_value(values, record, name, value, convert(value))
        try:
            return build(values).SerializeToString()  # type: ignore[no-any-return]
        except InvalidRecordError:
            raise
        except Exception as error:
            raise explain(record, error) from None

    return encode_dict


def _exact_type(data_type: Any) -> type | None:
    """The Python type a column's value may have to go to the constructor untouched, if any."""
    if isinstance(data_type, StringType) and data_type.length is None:
        return str
    if isinstance(data_type, PrimitiveType):
        return _EXACT_TYPES.get(data_type.primitive)
    return None


def _with_value(
    values: Mapping[str, Any], record: Mapping[str, Any], name: str, value: Any, wire: Any
) -> Mapping[str, Any]:
    """`values` with `name` set to its wire form, copying the caller's dict the first time."""
    if wire is value:
        return values
    changed = dict(values) if values is record else values
    changed[name] = wire  # type: ignore[index]
    return changed


def _explainer(
    message_class: Any, schema: TableSchema, units: IntegerUnits
) -> Callable[[Any, Exception], InvalidRecordError]:
    """Find the field behind a refusal of the protobuf runtime, for a precise error."""
    check_row = row_to_wire(schema, units=units)
    name = message_class.DESCRIPTOR.full_name

    def explain(record: Any, error: Exception) -> InvalidRecordError:
        if not isinstance(record, Mapping):
            return InvalidRecordError("", record, f"expected a dict for {name}, got {type(record).__name__}")
        try:
            check_row(record)
        except InvalidRecordError as precise:
            return precise
        for key, value in record.items():
            try:
                message_class(**{key: value})
            except Exception as field_error:
                return InvalidRecordError(str(key), value, f"does not fit {name}: {field_error}")
        if isinstance(error, EncodeError):
            missing = message_class(**record).FindInitializationErrors()
            return InvalidRecordError(", ".join(missing), None, "NOT NULL field is missing")
        return InvalidRecordError("", record, f"does not fit {name}: {error}")

    return explain


class ProtoEncoder(RecordEncoder):
    """Encodes records for a PROTO stream whose record message is `schema.message_class`."""

    def __init__(self, schema: RecordSchema, units: IntegerUnits = AUTO_UNITS) -> None:
        self.record_type = RecordTypeValue.PROTO
        self.record_schema = schema
        self.descriptor_proto = schema.descriptor_proto
        self.schema = schema.table_schema
        self.message_class = cls = schema.message_class
        self.direct_class = cls
        self.direct_encode = cls.SerializeToString
        full_name = schema.full_name
        table_schema = schema.table_schema
        encode_dict = (
            compile_dict_encoder(cls, table_schema, units)
            if table_schema is not None
            else _plain_dict_encoder(cls)
        )
        own_model = schema.model_class
        # The stream's own model class: one compiled function per record (`zerobus.codegen.model_proto`),
        # fetched on the first model record and kept here.
        model_encoder: Callable[[], Callable[[Any], bytes]] | None = getattr(
            own_model, "zerobus_proto_encoder", None
        )
        encode_model: Callable[[Any], bytes] | None = None

        def encode_other(record: Any) -> bytes:
            if isinstance(record, bytes):
                return record
            if isinstance(record, Mapping):
                return encode_dict(record)
            if isinstance(record, (bytearray, memoryview)):
                return bytes(record)
            if isinstance(record, Message):
                if record.DESCRIPTOR.full_name != full_name:
                    raise InvalidRecordError(
                        "",
                        record,
                        f"this stream takes {full_name} messages, got {record.DESCRIPTOR.full_name}",
                    )
                return _serialize(record)
            if own_model is not None and type(record) is own_model:
                return bytes(record.to_proto_bytes())
            if is_model_instance(record) or is_pydantic_instance(record):
                return encode_dict(record.model_dump(by_alias=True))
            if isinstance(record, str):
                return encode_dict(parse_json_record(record))
            raise InvalidRecordError(
                "",
                record,
                f"cannot encode a {type(record).__name__} as {full_name}: pass a {full_name} message, bytes, "
                "a dict, a Pydantic model or a JSON object string",
            )

        def encode(record: Any) -> Payload:
            nonlocal encode_model
            kind = type(record)
            if kind is cls:
                try:
                    return record.SerializeToString()  # type: ignore[no-any-return]
                except EncodeError:
                    return _serialize(record)
            if kind is dict:
                return encode_dict(record)
            if kind is own_model and model_encoder is not None:
                if encode_model is None:
                    encode_model = model_encoder()
                return encode_model(record)
            return encode_other(record)

        self.encode = encode


def _serialize(record: Any) -> bytes:
    try:
        return bytes(record.SerializeToString())
    except EncodeError:
        missing = ", ".join(record.FindInitializationErrors())
        raise InvalidRecordError(missing, None, "NOT NULL (required) field is not set") from None


def _plain_dict_encoder(message_class: Any) -> Callable[[Mapping[str, Any]], bytes]:
    build = message_builder(message_class)

    def encode_dict(record: Mapping[str, Any]) -> bytes:
        try:
            return bytes(build(record).SerializeToString())
        except Exception as error:
            raise InvalidRecordError(
                "", record, f"does not fit {message_class.DESCRIPTOR.full_name}: {error}"
            ) from None

    return encode_dict
