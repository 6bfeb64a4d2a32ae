"""Internal: Protobuf wire-format pieces (tags, varints, fixed-width numbers) for the compiled model encoders.

`zerobus.codegen.model_proto` writes a record's bytes straight from a model instance instead of
filling a message object first; these are the pieces its generated code concatenates. Varints
come from two lookup tables of 14-bit groups, because a table look-up costs less than the
7-bit loop in Python. Every writer refuses a value the protobuf runtime would not take as it
is (wrong type, out of range) by raising `GiveUp`, and the caller then takes the reference path.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import cache
from typing import Any

__all__ = [
    "CONTINUED",
    "FINAL",
    "GiveUp",
    "WireType",
    "as_bool",
    "as_bytes",
    "length_headers",
    "pack_double",
    "pack_float",
    "small_integers",
    "tag",
    "utf8",
    "varint",
    "varint32",
    "varint64",
]


class GiveUp(Exception):
    """The compiled encoder cannot vouch for this value: use the reference path."""


class WireType:
    """The protobuf wire types the record messages use."""

    VARINT = 0
    FIXED64 = 1
    LENGTH_DELIMITED = 2
    FIXED32 = 5


_GROUP = 1 << 14
_INT32_LOW, _INT32_HIGH = -(1 << 31), (1 << 31) - 1
_INT64_LOW, _INT64_HIGH = -(1 << 63), (1 << 63) - 1


def _slow_varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# FINAL[n]: the whole varint of n < 2**14 (one or two bytes). CONTINUED[n]: n as two 7-bit
# groups that both carry the continuation bit, for the low groups of a longer varint.
FINAL: tuple[bytes, ...] = tuple(_slow_varint(n) for n in range(_GROUP))
CONTINUED: tuple[bytes, ...] = tuple(bytes(((n & 0x7F) | 0x80, (n >> 7) | 0x80)) for n in range(_GROUP))

pack_double: Callable[[float], bytes] = struct.Struct("<d").pack
pack_float: Callable[[float], bytes] = struct.Struct("<f").pack


def varint(value: int) -> bytes:
    """The varint of 0 <= value < 2**64 (callers check the range)."""
    if value < _GROUP:
        return FINAL[value]
    if value < 1 << 28:
        return CONTINUED[value & 0x3FFF] + FINAL[value >> 14]
    if value < 1 << 42:
        return CONTINUED[value & 0x3FFF] + CONTINUED[(value >> 14) & 0x3FFF] + FINAL[value >> 28]
    low = CONTINUED[value & 0x3FFF] + CONTINUED[(value >> 14) & 0x3FFF] + CONTINUED[(value >> 28) & 0x3FFF]
    if value < 1 << 56:
        return low + FINAL[value >> 42]
    return low + CONTINUED[(value >> 42) & 0x3FFF] + varint(value >> 56)


def varint32(value: Any) -> bytes:
    """An int32 field's varint: negative numbers take ten bytes, as two's complement in 64 bits."""
    if type(value) is not int or not _INT32_LOW <= value <= _INT32_HIGH:
        raise GiveUp
    return varint(value) if value >= 0 else varint(value + (1 << 64))


def varint64(value: Any) -> bytes:
    """An int64 field's varint."""
    if type(value) is not int or not _INT64_LOW <= value <= _INT64_HIGH:
        raise GiveUp
    return varint(value) if value >= 0 else varint(value + (1 << 64))


def as_bool(value: Any) -> bytes:
    if value is True:
        return b"\x01"
    if value is False:
        return b"\x00"
    raise GiveUp


def utf8(value: Any) -> bytes:
    """A string field's bytes; text with lone surrogates raises (the runtime refuses it too)."""
    if type(value) is not str:
        raise GiveUp
    return value.encode()


def as_bytes(value: Any) -> bytes:
    if type(value) is not bytes:
        raise GiveUp
    return value


def tag(number: int, wire_type: int) -> bytes:
    """A field's key: its number and wire type as one varint."""
    return varint((number << 3) | wire_type)


@cache
def small_integers(key: bytes) -> tuple[bytes, ...]:
    """``key`` and the varint of each -128 <= n < 128, indexed by n itself (negative n from the
    end, as Python indexes): one look-up for the commonest integers, negative ones included."""
    return tuple(key + varint(n if n < 128 else n - 256 + (1 << 64)) for n in range(256))


@cache
def length_headers(key: bytes) -> tuple[bytes, ...]:
    """The key of a length-delimited field followed by each length below 128 (one byte)."""
    return tuple(key + FINAL[n] for n in range(128))
