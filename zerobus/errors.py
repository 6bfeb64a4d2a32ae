"""The one exception tree of the package.

    ZerobusException                 retryable failure (network, server overload, lost stream)
    └── NonRetriableException       retrying the same call cannot succeed
        ├── InvalidRecordError      a record does not fit the table (also a ValueError)
        ├── SchemaError             a table schema or type cannot be used (also a ValueError)
        └── ConfigurationError      bad options, names or endpoints (also a ValueError)
            └── UnknownOptionError  no option of that name (also an AttributeError)

Every exception keeps the low-level error it came from as `cause` (and as `__cause__` when
raised with `raise ... from`). gRPC statuses are classified here and nowhere else.
"""

from __future__ import annotations

import difflib
import reprlib
import socket
from collections.abc import Iterable

import grpc

__all__ = [
    "NON_RETRYABLE_GRPC_CODES",
    "ConfigurationError",
    "InvalidRecordError",
    "NonRetriableException",
    "SchemaError",
    "UnknownOptionError",
    "ZerobusException",
    "certificate_error",
    "from_grpc_error",
    "is_certificate_failure",
    "is_retryable_grpc_code",
    "tls_failure",
]


class ZerobusException(Exception):
    """Base of every error this package raises; on its own it means "retrying may succeed"."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


class NonRetriableException(ZerobusException):
    """Retrying cannot help: bad credentials, missing grants, unknown table, bad schema or data."""


class InvalidRecordError(NonRetriableException, ValueError):
    """A record does not fit the table; names the field path, the value and the reason."""

    def __init__(self, field: str, value: object, reason: str, cause: BaseException | None = None) -> None:
        try:
            shown = repr(value)
        except RecursionError:  # a deeply nested record: its own repr recurses too deep
            shown = reprlib.repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        where = f"field '{field}'" if field else "record"
        super().__init__(f"invalid record: {where}: {reason} (got {shown})", cause)
        self.field = field
        self.value = value
        self.reason = reason


class SchemaError(NonRetriableException, ValueError):
    """A table schema, column type or descriptor cannot be used; names the column path."""

    def __init__(self, message: str, column: str | None = None, cause: BaseException | None = None) -> None:
        super().__init__(f"column '{column}': {message}" if column else message, cause)
        self.column = column


class ConfigurationError(NonRetriableException, ValueError):
    """An option, table name or endpoint is invalid; raised before any network call."""


class UnknownOptionError(ConfigurationError, AttributeError):
    """An options object has no option of that name (a keyword or an assignment): names the
    closest valid one, or lists them all. Also an AttributeError, as assigning an unknown
    attribute of the official SDK's options raises one."""

    def __init__(self, owner: str, name: str, valid: Iterable[str]) -> None:
        names = sorted(valid)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid options: {', '.join(names)}"
        super().__init__(f"{owner} has no option {name!r}; {hint}")
        self.option = name


# docs/PROTOCOL.md section 4: every other code, and a call that ends without a status, is retryable.
NON_RETRYABLE_GRPC_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.NOT_FOUND,
    }
)


def is_retryable_grpc_code(code: grpc.StatusCode | None) -> bool:
    """Whether a call that ended with `code` (None: no status at all) may be retried."""
    return code not in NON_RETRYABLE_GRPC_CODES


# How OpenSSL/BoringSSL (grpc core, Python's ssl under requests) report a server certificate the
# client does not accept: unknown CA, expired, wrong name. Other handshake failures (a reset, a
# plaintext server) may be transient and stay retryable.
_CERTIFICATE_FAILURE_MARKERS = (
    "certificate_verify_failed",
    "certificate verify failed",
    "hostname verification check failed",
    "is not in peer certificate",
)

TRUST_ADVICE = (
    "the client does not trust the server's certificate; for a server with a private CA (such as "
    "`zerobus-emulator start --tls`), pass root_certificates=<CA PEM file> to ZerobusSdk, or set "
    "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH (gRPC) and REQUESTS_CA_BUNDLE (OAuth, Unity Catalog) to that file"
)


def is_certificate_failure(text: str) -> bool:
    """Whether an error text says the server's TLS certificate failed verification."""
    lowered = text.lower()
    return any(marker in lowered for marker in _CERTIFICATE_FAILURE_MARKERS)


def certificate_error(what: str, detail: str, cause: BaseException | None = None) -> NonRetriableException:
    """A certificate the client does not trust: retrying cannot help, only trusting the CA can."""
    return NonRetriableException(
        f"{what}: TLS certificate verification failed ({detail}); {TRUST_ADVICE}", cause
    )


def tls_failure(what: str, detail: str, cause: BaseException | None = None) -> NonRetriableException | None:
    """The non-retriable TLS failure `detail` describes, or None if it describes none.

    Besides an untrusted certificate: an `https://` client talking to a plaintext server (the
    answer is not TLS at all, OpenSSL's WRONG_VERSION_NUMBER), which no retry can change.
    """
    if is_certificate_failure(detail):
        return certificate_error(what, detail, cause)
    if "wrong_version_number" in detail.lower():
        return NonRetriableException(
            f"{what}: the server did not answer with TLS ({detail}); an https:// endpoint needs a TLS "
            "server: for a plaintext local server use http://",
            cause,
        )
    return None


def from_grpc_error(
    error: BaseException, context: str = "stream", host: str | None = None
) -> ZerobusException:
    """Translate a gRPC failure into our tree, keeping the server's own words and the original.

    `host`, the endpoint's host, lets a connection failure say which addresses were tried.
    """
    code = error.code() if isinstance(error, grpc.RpcError) and hasattr(error, "code") else None
    details = error.details() if isinstance(error, grpc.RpcError) and hasattr(error, "details") else None
    if code == grpc.StatusCode.UNAVAILABLE and details:
        details += _addresses_tried(host)
        failure = tls_failure(f"{context} failed", details, error)
        if failure is not None:
            return failure
    if code is None:
        text = f"{context} failed: {error}"
    else:
        text = f"{context} failed with {code.name}: {details or 'no details'}"
        if _lost_status(error):
            text += (
                " (grpc.aio replaced the server's status after a write raced the end of the call, "
                "grpc/grpc#36066; the stream recovers and a persistent server error shows on the next call)"
            )
    kind = ZerobusException if is_retryable_grpc_code(code) else NonRetriableException
    return kind(text, cause=error)


def _addresses_tried(host: str | None) -> str:
    """For `localhost`: grpc tries each address it resolves to but reports only the last error,
    so "connection refused" on ::1 can hide what happened on 127.0.0.1 (or the reverse)."""
    if host is None or host.lower() != "localhost":
        return ""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return ""
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if len(addresses) == 1:
        return f" (localhost resolves to {addresses[0]} only)"
    return (
        f" (localhost resolves to {', '.join(addresses)}; gRPC tried each and reports the last "
        "error only; a server listening on one of them refuses the others)"
    )


def _lost_status(error: BaseException) -> bool:
    """grpc.aio's INTERNAL for a write that failed because the server had already ended the call."""
    debug = getattr(error, "debug_error_string", None)
    details = getattr(error, "details", None)
    return bool(
        callable(debug)
        and callable(details)
        and details() == "Internal error from Core"
        and "SendMessageOperation" in str(debug())
    )
