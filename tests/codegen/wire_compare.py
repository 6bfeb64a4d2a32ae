"""Record bytes compared field by field, exactly, except for the order of map entries.

The compiled model encoder writes a map's entries in the dict's order; the protobuf runtime
serializes them in its hash table's order, which changes from one process to the next. Both are
the same record to every reader. Everything else (field order, tags, varint forms, lengths,
nested messages) must match byte for byte, so a record is split into its fields, nested messages
are split in turn, and only the entries of each map field are sorted.
"""

from __future__ import annotations

from typing import Any

__all__ = ["assert_same_record", "canonical_fields"]

Fields = list[tuple[int, int, Any]]


def _read_varint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, position


def canonical_fields(data: bytes, descriptor: Any) -> Fields:
    """(number, wire type, raw bytes or nested fields) in order, map entries sorted."""
    fields: Fields = []
    position = 0
    while position < len(data):
        key, position = _read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        start = position
        if wire_type == 0:
            _, position = _read_varint(data, position)
            raw: Any = data[start:position]
        elif wire_type in (1, 5):
            position += 8 if wire_type == 1 else 4
            raw = data[start:position]
        else:
            assert wire_type == 2, f"unexpected wire type {wire_type} for field {number}"
            length, start = _read_varint(data, position)
            position = start + length
            raw = data[start:position]
            proto_field = descriptor.fields_by_number.get(number)
            if proto_field is not None and proto_field.message_type is not None:
                raw = canonical_fields(raw, proto_field.message_type)
        assert position <= len(data), "truncated record"
        fields.append((number, wire_type, raw))
    return _entries_sorted(fields, descriptor)


def _entries_sorted(fields: Fields, descriptor: Any) -> Fields:
    out: Fields = []
    index = 0
    while index < len(fields):
        number = fields[index][0]
        proto_field = descriptor.fields_by_number.get(number)
        end = index + 1
        entries = proto_field is not None and proto_field.message_type is not None
        if entries and proto_field.message_type.GetOptions().map_entry:
            while end < len(fields) and fields[end][0] == number:
                end += 1
        out.extend(sorted(fields[index:end], key=repr))
        index = end
    return out


def assert_same_record(got: bytes, expected: bytes, message_class: Any) -> None:
    """Fail unless both are the same record: the same bytes, map entries in any order."""
    if got == expected:
        return
    assert len(got) == len(expected), (got, expected)
    descriptor = message_class.DESCRIPTOR
    assert canonical_fields(got, descriptor) == canonical_fields(expected, descriptor)
