"""Internal: The server's one decision point: who calls, what they may do, and how their records are read.

The gRPC, Flight and HTTP front-ends hand in what their wire carried (the authorization header,
the table header, the stream's record type) and translate a `Refusal` into their own status (a
gRPC status; an HTTP status and error code). None of them parses a token, checks a grant or picks
a record codec itself, so the three cannot disagree about a caller.

Record types: `stream_codec` looks the stream's record type up in `CODEC_BUILDERS` (record type
value -> builder); a new record format is one more entry there.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zerobus.errors import ConfigurationError
from zerobus.names import parse_table_name
from zerobus.protocol import RecordTypeValue
from zerobus.protocol.constants import (
    AUTHORIZATION_HEADER,
    BEARER_PREFIX,
    ERROR_MISSING_GRANTS,
    INGEST_RESOURCE_SUFFIX,
    TABLE_NAME_HEADER,
    error_code_text,
)
from zerobus.server.identity.auth import AuthError, Caller
from zerobus.server.storage.catalog import TableNotFound
from zerobus.server.storage.frames import JSON_KEY, KIND_JSON, KIND_PROTO, descriptor_key, frame_prefix
from zerobus.server.validation.arrow_schema_check import ArrowSchemaMismatch, check_arrow_schema
from zerobus.server.validation.avro_checks import AvroSchemaError
from zerobus.server.validation.avro_records import AvroUnavailable, avro_stream_codec
from zerobus.server.validation.records import JsonRecordCodec, ProtoRecordCodec, StreamRecordCodec
from zerobus.server.validation.schema_check import DescriptorError, compile_descriptor

if TYPE_CHECKING:
    from zerobus.server.server_core import ServerCore
    from zerobus.server.storage.tables import TableRuntime

__all__ = [
    "CODEC_BUILDERS",
    "INGEST_PRIVILEGES",
    "Refusal",
    "RefusalKind",
    "StreamCodec",
    "authenticate",
    "check_arrow_stream_schema",
    "ingest_table",
    "may_see_table",
    "require",
    "stream_codec",
]

# What writing to a table through Zerobus needs (docs/PROTOCOL.md section 2), on the token and the principal.
INGEST_PRIVILEGES = ("SELECT", "MODIFY")


class RefusalKind(enum.Enum):
    """Why a request is refused; each front-end maps it to its own status."""

    UNAUTHENTICATED = "unauthenticated"
    PERMISSION_DENIED = "permission denied"
    INVALID_ARGUMENT = "invalid argument"
    NOT_FOUND = "not found"
    UNIMPLEMENTED = "unimplemented"


class Refusal(Exception):
    """The decision against a request: its kind and the message the client sees."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- who calls ------------------------------------------------------------------------------------


def authenticate(core: ServerCore, authorization: str | None) -> Caller:
    """The caller behind an ``authorization: Bearer <token>`` header (gRPC metadata or HTTP)."""
    prefix = BEARER_PREFIX.lower()
    if not authorization or not authorization.lower().startswith(prefix):
        raise Refusal(RefusalKind.UNAUTHENTICATED, f"missing 'authorization: {BEARER_PREFIX}<token>' header")
    try:
        token = core.tokens.validate(authorization[len(prefix) :].strip())
    except AuthError as error:
        raise Refusal(RefusalKind.UNAUTHENTICATED, error.message) from None
    principal = core.principals.get(token.client_id)
    if principal is None:
        raise Refusal(RefusalKind.UNAUTHENTICATED, f"principal '{token.client_id}' does not exist")
    return Caller(principal, token)


# --- what they may do -----------------------------------------------------------------------------


def require(caller: Caller, privileges: tuple[str, ...], full_path: str, securable: str = "Table") -> None:
    """Refuse unless the caller holds one of `privileges` on `full_path` (principal and token both)."""
    if not any(caller.may(privilege, full_path) for privilege in privileges):
        wanted = " or ".join(privileges)
        raise Refusal(
            RefusalKind.PERMISSION_DENIED, f"User does not have {wanted} on {securable} '{full_path}'."
        )


def may_see_table(caller: Caller, full_name: str) -> bool:
    """Whether a table is listed to the caller: it may read or write it."""
    return any(caller.may(privilege, full_name) for privilege in INGEST_PRIVILEGES)


def _require_ingest(caller: Caller, table_name: str) -> None:
    """An ingest token naming the table itself, and the principal's grants, for SELECT and MODIFY."""
    token, principal = caller.token, caller.principal
    code = error_code_text(ERROR_MISSING_GRANTS)
    if not token.is_ingest_token:
        raise Refusal(
            RefusalKind.PERMISSION_DENIED,
            f"{code}: the token is not scoped for Zerobus ingestion (request it with the "
            f"{INGEST_RESOURCE_SUFFIX.lstrip('/')} resource and authorization_details for the table)",
        )
    table_key = table_name.lower()
    named_by_token = {(path.lower(), privilege) for path, privilege in token.authorized}
    missing = [
        privilege
        for privilege in INGEST_PRIVILEGES
        if (table_key, privilege) not in named_by_token or not principal.has_privilege(privilege, table_name)
    ]
    if missing:
        raise Refusal(
            RefusalKind.PERMISSION_DENIED,
            f"{code}: principal '{principal.client_id}' lacks {' and '.join(missing)} on table "
            f"'{table_name}' (the token must be requested for this table)",
        )


def ingest_table(
    core: ServerCore, headers: Mapping[str, str], requested_table: str | None = None
) -> TableRuntime:
    """The open table a stream may write to, from its headers (and `create_stream`'s table_name).

    The table header is authoritative; a `create_stream` naming a table must name the same one.
    """
    header_name = headers.get(TABLE_NAME_HEADER)
    try:
        if requested_table is not None:
            parse_table_name(requested_table)
        if header_name is None:
            raise Refusal(RefusalKind.INVALID_ARGUMENT, f"missing '{TABLE_NAME_HEADER}' metadata")
        if requested_table is None:
            parse_table_name(header_name)
    except ConfigurationError as error:
        raise Refusal(RefusalKind.INVALID_ARGUMENT, str(error)) from None
    if requested_table is not None and header_name.lower() != requested_table.lower():
        raise Refusal(
            RefusalKind.INVALID_ARGUMENT,
            f"table name in metadata '{header_name}' does not match create_stream table_name "
            f"'{requested_table}'",
        )
    table_name = requested_table if requested_table is not None else header_name
    _require_ingest(authenticate(core, headers.get(AUTHORIZATION_HEADER)), table_name)
    try:
        return core.table(table_name)
    except TableNotFound as error:
        raise Refusal(RefusalKind.NOT_FOUND, str(error)) from None


# --- how their records are read -------------------------------------------------------------------


@dataclass(frozen=True)
class StreamCodec:
    """How one stream's records are checked and stored: the codec, the log frames' prefix, and the
    bytes to persist so a restart can read those frames again (None: the table alone suffices)."""

    codec: StreamRecordCodec
    prefix: bytes
    persisted: bytes | None


CodecBuilder = Callable[[Any, "TableRuntime"], StreamCodec]


def _json_codec(create: Any, table: TableRuntime) -> StreamCodec:
    return StreamCodec(JsonRecordCodec(table.entry.schema), frame_prefix(KIND_JSON, JSON_KEY), None)


def _proto_codec(create: Any, table: TableRuntime) -> StreamCodec:
    if not create.HasField("descriptor_proto") or not create.descriptor_proto:
        raise Refusal(
            RefusalKind.INVALID_ARGUMENT,
            "a PROTO stream needs descriptor_proto (the record's DescriptorProto)",
        )
    descriptor_bytes = create.descriptor_proto
    try:
        compiled = compile_descriptor(descriptor_bytes, table.entry.schema)
    except DescriptorError as error:
        raise Refusal(
            RefusalKind.INVALID_ARGUMENT,
            f"descriptor incompatible with table '{table.entry.full_name}': {error}",
        ) from None
    codec = ProtoRecordCodec(table.entry.schema, compiled)
    return StreamCodec(codec, frame_prefix(KIND_PROTO, descriptor_key(descriptor_bytes)), descriptor_bytes)


def _avro_codec(create: Any, table: TableRuntime) -> StreamCodec:
    """docs/PROTOCOL.md section 12: a writer schema that does not fit fails like a bad descriptor."""
    try:
        codec, prefix, schema_bytes = avro_stream_codec(create.avro_schema, table.entry.schema)
    except AvroUnavailable as error:
        raise Refusal(RefusalKind.UNIMPLEMENTED, str(error)) from None
    except AvroSchemaError as error:
        raise Refusal(
            RefusalKind.INVALID_ARGUMENT,
            f"avro_schema incompatible with table '{table.entry.full_name}': {error}",
        ) from None
    return StreamCodec(codec, prefix, schema_bytes)


# Record type value (`RecordTypeValue`) -> how such a stream's codec is built from its create_stream.
CODEC_BUILDERS: dict[int, CodecBuilder] = {
    RecordTypeValue.UNSPECIFIED: _proto_codec,
    RecordTypeValue.PROTO: _proto_codec,
    RecordTypeValue.JSON: _json_codec,
    RecordTypeValue.AVRO: _avro_codec,
}


def stream_codec(create: Any, table: TableRuntime) -> StreamCodec:
    """The codec of a stream opened by `create` (a `CreateIngestStreamRequest`) on `table`."""
    record_type = create.record_type if create.HasField("record_type") else RecordTypeValue.UNSPECIFIED
    builder = CODEC_BUILDERS.get(record_type)
    if builder is None:
        raise Refusal(RefusalKind.INVALID_ARGUMENT, f"unknown record_type {record_type}")
    return builder(create, table)


def check_arrow_stream_schema(table: TableRuntime, schema: Any) -> None:
    """Refuse an Arrow stream whose schema (a `pyarrow.Schema`) the table cannot take."""
    try:
        check_arrow_schema(table.entry.schema, schema)
    except ArrowSchemaMismatch as error:
        raise Refusal(
            RefusalKind.INVALID_ARGUMENT,
            f"Arrow schema incompatible with table '{table.entry.full_name}': {error}",
        ) from None
