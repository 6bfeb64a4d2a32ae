"""Internal: Record encoders: user records (protobuf messages, bytes, dicts, Pydantic models, JSON) to wire payloads."""

from zerobus.encoders.avro_records import AvroEncoder
from zerobus.encoders.base import Payload, RecordEncoder, is_model_class, is_model_instance
from zerobus.encoders.json_records import JsonEncoder, json_default
from zerobus.encoders.proto import ProtoEncoder, compile_dict_encoder
from zerobus.encoders.record_schemas import (
    RecordSchema,
    check_self_contained,
    record_schema_from_table,
    resolve_record_schema,
    schema_from_descriptor,
)
from zerobus.encoders.select import choose_encoder, resolve_record_type

__all__ = [
    "AvroEncoder",
    "JsonEncoder",
    "Payload",
    "ProtoEncoder",
    "RecordEncoder",
    "RecordSchema",
    "check_self_contained",
    "choose_encoder",
    "compile_dict_encoder",
    "is_model_class",
    "is_model_instance",
    "json_default",
    "record_schema_from_table",
    "resolve_record_schema",
    "resolve_record_type",
    "schema_from_descriptor",
]
