"""Internal: JSON records: JSON text as it is, dicts and Pydantic models rendered to compact JSON.

With a known table schema, dicts and models are converted and checked column by column
(`zerobus.schema.python_to_wire.row_to_wire` in JSON mode: dates as day counts, timestamps as
microseconds, binary as base64, decimals as text) and JSON text is parsed and checked the same
way, so a record that does not fit fails at the ingest call. Without a schema, dicts are
rendered with the same wire conventions for dates, datetimes, decimals and bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from collections.abc import Callable, Mapping
from typing import Any

from zerobus.encoders.base import Payload, RecordEncoder, is_model_instance, is_pydantic_instance
from zerobus.encoders.json_text import parse_json_record, require_utf8
from zerobus.errors import InvalidRecordError
from zerobus.json_depth import rendered_depth_problem
from zerobus.protocol import RecordTypeValue
from zerobus.schema.epoch import date_to_days, datetime_to_micros
from zerobus.schema.ir import TableSchema
from zerobus.schema.python_to_wire import row_to_wire
from zerobus.schema.time_units import AUTO_UNITS, IntegerUnits
from zerobus.schema.wire_checks import wire_row_check
from zerobus.schema.wire_units import row_units_converter

__all__ = ["JsonEncoder", "json_default"]


def json_default(value: Any) -> Any:
    """Wire values (docs/PROTOCOL.md section 7) for Python types `json` does not know."""
    if isinstance(value, dt.datetime):
        return datetime_to_micros(value)
    if isinstance(value, dt.date):
        return date_to_days(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# UTF-8 on the wire, so no \uXXXX escapes (an emoji would cost 12 bytes instead of 4); never NaN.
_dumps = json.JSONEncoder(
    separators=(",", ":"), default=json_default, allow_nan=False, ensure_ascii=False
).encode


class JsonEncoder(RecordEncoder):
    """Encodes records for a JSON stream, checked against `schema` when one is known."""

    def __init__(
        self, schema: TableSchema | None = None, model_class: Any = None, units: IntegerUnits = AUTO_UNITS
    ) -> None:
        self.record_type = RecordTypeValue.JSON
        self.descriptor_proto = None
        self.schema = schema
        convert: Callable[[Any], Any] | None = (
            row_to_wire(schema, json_mode=True, units=units) if schema is not None else None
        )
        check_text = wire_row_check(schema, json_mode=True) if schema is not None else None
        text_units = row_units_converter(schema, units) if schema is not None else None

        def encode_dict(record: Mapping[str, Any]) -> str:
            values = convert(record) if convert is not None else record
            try:
                text: str | None = _dumps(values)
            except (TypeError, ValueError) as error:
                raise InvalidRecordError("", record, f"cannot be rendered as JSON: {error}") from None
            except RecursionError:
                text = None
            too_deep = rendered_depth_problem(values, text)
            if too_deep is not None:
                raise InvalidRecordError("", record, f"cannot be sent: {too_deep}")
            assert text is not None
            require_utf8(text, record)
            return text

        def encode_text(text: str) -> str:
            """Checked like a dict when the schema is known; sent as given unless a unit was converted."""
            value = parse_json_record(text)
            wire = text_units(value) if text_units is not None else value
            if check_text is not None:
                check_text(wire)
            if wire is value:
                return text
            converted = _dumps(wire)  # wire values already: only the integers' unit changed
            require_utf8(converted, text)
            return converted

        def encode(record: Any) -> Payload:
            kind = type(record)
            if kind is str:
                return encode_text(record)
            if kind is dict or isinstance(record, Mapping):
                return encode_dict(record)
            if model_class is not None and type(record) is model_class:
                model_text = str(record.to_json())
                require_utf8(model_text, record)
                return model_text
            if is_model_instance(record) or is_pydantic_instance(record):
                return encode_dict(record.model_dump(by_alias=True))
            if isinstance(record, str):
                return encode_text(str(record))
            if isinstance(record, (bytes, bytearray, memoryview)):
                try:
                    return encode_text(bytes(record).decode("utf-8"))
                except UnicodeDecodeError as error:
                    raise InvalidRecordError("", record, f"JSON bytes are not UTF-8: {error}") from None
            raise InvalidRecordError(
                "",
                record,
                f"a JSON stream takes JSON text, dicts or Pydantic models, got {type(record).__name__}",
            )

        self.encode = encode
