"""Internal: Protobuf wire bytes for many rows at once, built column by column with numpy.

A column becomes a `Piece`: for every row, a head (the field's tag, then a varint or a fixed-width
value, or the length of what follows) and an optional body (the bytes of a string, a binary or an
already-serialized nested field). Rows are laid out in one buffer, pieces in field-number order
(the order protobuf runtimes serialize in), by computing every piece's position from the lengths
and scattering the heads and bodies there; the buffer is cut into one `bytes` per record only at
the end. A row where a piece has length 0 simply lacks that field (a null).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Piece",
    "assemble",
    "fixed_piece",
    "length_delimited_piece",
    "tag_bytes",
    "varint_piece",
    "zigzag",
]

U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Mask = npt.NDArray[np.bool_]

WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_FIXED32 = 0, 1, 2, 5
_MAX_VARINT_BYTES = 10


@dataclass
class Piece:
    """One field of every row: `head[i, :head_len[i]]`, then `body[body_start[i]:][:body_len[i]]`."""

    head: U8
    head_len: I64
    body: U8 | None = None
    body_start: I64 | None = None
    body_len: I64 | None = None

    def row_lengths(self) -> I64:
        return self.head_len if self.body_len is None else self.head_len + self.body_len


def tag_bytes(number: int, wire_type: int) -> bytes:
    return _varint_bytes((number << 3) | wire_type)


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def zigzag(values: npt.NDArray[np.int64]) -> U64:
    """sint32/sint64 encoding: small magnitudes of either sign get short varints."""
    return ((values << 1) ^ (values >> 63)).view(np.uint64)


_VARINT_STEPS = np.array([1 << (7 * step) for step in range(1, _MAX_VARINT_BYTES)], np.uint64)


def _varints(values: U64) -> tuple[U8, I64]:
    """Each value's varint (a row of a matrix, padded) and its length in bytes."""
    count = len(values)
    lengths = np.searchsorted(_VARINT_STEPS, values, side="right").astype(np.int64) + 1
    width = int(lengths.max()) if count else 1
    matrix = np.empty((count, width), np.uint8)
    rest = values.copy()
    for column in range(width):
        matrix[:, column] = (rest & np.uint64(0x7F)).astype(np.uint8) | np.uint8(0x80)
        rest >>= np.uint64(7)
    matrix[np.arange(count), lengths - 1] &= np.uint8(0x7F)
    return matrix, lengths


def _with_tag(tag: bytes, matrix: U8, lengths: I64, present: Mask | None) -> tuple[U8, I64]:
    count = len(lengths)
    tag_matrix = np.broadcast_to(np.frombuffer(tag, np.uint8), (count, len(tag)))
    head = np.concatenate([tag_matrix, matrix], axis=1)
    head_len = lengths + len(tag)
    if present is not None:
        head_len = np.where(present, head_len, 0)
    return head, head_len


def varint_piece(tag: bytes, values: U64, present: Mask | None) -> Piece:
    """A varint field (int32, int64, uint, sint after `zigzag`, bool, enum)."""
    return Piece(*_with_tag(tag, *_varints(values), present))


def fixed_piece(tag: bytes, values: npt.NDArray[np.generic], present: Mask | None) -> Piece:
    """A fixed-width little-endian field (float, double, fixed32/64, sfixed32/64)."""
    little = values.astype(values.dtype.newbyteorder("<"), copy=False)
    width = little.dtype.itemsize
    matrix = np.ascontiguousarray(little).view(np.uint8).reshape(len(values), width)
    return Piece(*_with_tag(tag, matrix, np.full(len(values), width, np.int64), present))


def length_delimited_piece(tag: bytes, body: U8, starts: I64, lengths: I64, present: Mask | None) -> Piece:
    """A string, bytes or message field: tag, varint length, then `body[starts[i]:][:lengths[i]]`."""
    if present is not None:
        lengths = np.where(present, lengths, 0)
    head, head_len = _with_tag(tag, *_varints(lengths.astype(np.uint64)), present)
    return Piece(head, head_len, body, starts, lengths)


def _exclusive_cumsum(lengths: I64) -> I64:
    out = np.zeros(len(lengths), np.int64)
    np.cumsum(lengths[:-1], out=out[1:])
    return out


def _write_heads(out: U8, positions: I64, head: U8) -> None:
    """Every row's whole head matrix row: the bytes past a row's head length are garbage that
    the row's next piece, or the slack after the row, covers (see `assemble`)."""
    for column in range(head.shape[1]):
        out[positions + column] = head[:, column]


def _write_bodies(out: U8, positions: I64, body: U8, starts: I64, lengths: I64) -> None:
    total = int(lengths.sum())
    if not total:
        return
    within = np.arange(total, dtype=np.int64) - np.repeat(_exclusive_cumsum(lengths), lengths)
    out[np.repeat(positions, lengths) + within] = body[np.repeat(starts, lengths) + within]


def assemble(pieces: list[Piece], rows: int) -> tuple[bytes, I64, I64]:
    """The rows' bytes in one buffer, and where each row starts and ends in it.

    `pieces` come in field-number order. Each row is followed by slack as wide as the widest
    head, so a head can be written whole for every row (one scatter per head byte, no masks):
    what lies past its real length is overwritten by the row's next piece or falls in the slack.
    """
    row_len = np.zeros(rows, np.int64)
    for piece in pieces:
        row_len += piece.row_lengths()
    slack = max((piece.head.shape[1] for piece in pieces), default=0)
    starts = _exclusive_cumsum(row_len + slack)
    out = np.zeros(int(starts[-1] + row_len[-1] + slack) if rows else 0, np.uint8)
    positions = starts
    for piece in pieces:
        _write_heads(out, positions, piece.head)
        positions = positions + piece.head_len
        if piece.body is not None:
            assert piece.body_start is not None and piece.body_len is not None
            _write_bodies(out, positions, piece.body, piece.body_start, piece.body_len)
            positions = positions + piece.body_len
    return out.tobytes(), starts, starts + row_len
