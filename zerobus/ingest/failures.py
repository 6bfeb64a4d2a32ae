"""Internal: Exit statuses of `zerobus-ingest`, and the one line a person reads for each failure.

Each failure is classified once, here, into a status and a message that says what is likely
wrong and which flag or environment variable sets it.
"""

from __future__ import annotations

import enum
import re

import grpc
import requests

from zerobus.errors import ConfigurationError, SchemaError, ZerobusException
from zerobus.ingest.errors import InputFileError, RowRefusedError, StreamOpenError
from zerobus.schema.uc import (
    CatalogAuthError,
    CatalogRequestError,
    CatalogUnavailableError,
    TableNotFoundError,
)

__all__ = ["EXIT_CODES_HELP", "ExitCode", "classify"]


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    DEAD_LETTERS = 3
    REFUSED = 4
    AUTH = 5
    NOT_FOUND = 6
    UNREACHABLE = 7
    BAD_FILE = 8
    INTERRUPTED = 130


EXIT_CODES_HELP = """\b
Exit codes:
  0    every row landed (acknowledged by the server)
  1    the stream failed while ingesting; the summary says how many rows landed
  2    usage error (option, table name, endpoint, dead-letter path)
  3    some rows were refused and written to the --dead-letter file; all others landed
  4    a row was refused and there is no --dead-letter file: stopped there; rows before it landed
  5    authentication failed or not authorized (credentials, grants)
  6    table not found
  7    cannot reach the workspace or the Zerobus endpoint
  8    a file cannot be read as its format, or does not fit the table
  130  interrupted (Ctrl-C): rows read before it landed
"""

_CREDENTIALS = "check --client-id/--client-secret (DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET) and the principal's grants on the table"
_HOST = "is --host (DATABRICKS_HOST) the workspace URL, and is the server running?"
_ENDPOINT = "is --endpoint (ZEROBUS_SERVER_ENDPOINT) the Zerobus endpoint, and is the server running?"
# The SDK's OAuth errors carry the HTTP status only in their text (zerobus.oauth.request_token).
_TOKEN_REFUSED = re.compile(r"OAuth token request to \S+ failed with HTTP ([0-9]{3})")
_GRPC_CODES = {
    grpc.StatusCode.UNAUTHENTICATED: ExitCode.AUTH,
    grpc.StatusCode.PERMISSION_DENIED: ExitCode.AUTH,
    grpc.StatusCode.NOT_FOUND: ExitCode.NOT_FOUND,
    grpc.StatusCode.UNAVAILABLE: ExitCode.UNREACHABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ExitCode.UNREACHABLE,
}


def _grpc_code(error: BaseException) -> grpc.StatusCode | None:
    """The gRPC status somewhere down `error`'s chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, grpc.RpcError) and callable(getattr(current, "code", None)):
            code: grpc.StatusCode = current.code()
            return code
        current = getattr(current, "cause", None) or current.__cause__
    return None


def classify(error: ZerobusException) -> tuple[ExitCode, str]:
    """The exit status for `error` and the message to print."""
    if isinstance(error, StreamOpenError):
        if isinstance(error.error, ConfigurationError):
            return ExitCode.USAGE, error.message
        refused_token = _TOKEN_REFUSED.search(error.error.message)
        if refused_token is not None and 400 <= int(refused_token.group(1)) < 500:
            return ExitCode.AUTH, f"{error.message}; {_CREDENTIALS}"
        if isinstance(error.error.cause, requests.RequestException):
            return ExitCode.UNREACHABLE, f"{error.message}; {_HOST}"
        code = _GRPC_CODES.get(_grpc_code(error) or grpc.StatusCode.UNKNOWN, ExitCode.FAILED)
        if code is ExitCode.UNREACHABLE:
            return code, f"{error.message}; {_ENDPOINT}"
        if code is ExitCode.AUTH:
            return code, f"{error.message}; {_CREDENTIALS}"
        return code, error.message
    if isinstance(error, CatalogAuthError):
        return ExitCode.AUTH, f"{error.message}; {_CREDENTIALS}"
    if isinstance(error, TableNotFoundError):
        return ExitCode.NOT_FOUND, error.message
    if isinstance(error, CatalogUnavailableError):
        return ExitCode.UNREACHABLE, f"{error.message}; {_HOST}"
    if isinstance(error, RowRefusedError):
        return ExitCode.REFUSED, f"{error.message} (pass --dead-letter FILE to keep going past refused rows)"
    if isinstance(error, (InputFileError, SchemaError)):
        return ExitCode.BAD_FILE, error.message
    if isinstance(error, ConfigurationError):
        return ExitCode.USAGE, error.message
    if isinstance(error, CatalogRequestError):
        return ExitCode.FAILED, error.message
    return ExitCode.FAILED, error.message
