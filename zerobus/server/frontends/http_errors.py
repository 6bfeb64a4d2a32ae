"""Internal: How the HTTP API answers a mistake or a refusal, and who is calling (every route needs both).

Unity Catalog routes answer Databricks-style ``{"error_code": ..., "message": ...}``; the OAuth
endpoints answer OAuth's ``{"error": ..., "error_description": ...}``. A refusal of the decision
core (`zerobus.server.decisions`) reads as the status of its kind.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from zerobus.protocol.constants import AUTHORIZATION_HEADER
from zerobus.server.decisions import Refusal, RefusalKind, authenticate, require
from zerobus.server.identity.auth import Caller
from zerobus.server.server_core import ServerCore

__all__ = ["ApiError", "caller_of", "oauth_error", "refused", "require_any", "uc_error"]


class ApiError(Exception):
    """An answer other than 200: its HTTP status and JSON body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def uc_error(status: HTTPStatus, error_code: str, message: str) -> ApiError:
    return ApiError(status, {"error_code": error_code, "message": message})


def oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description})


# How each kind of refusal of the decision core (`zerobus.server.decisions`) reads on this API.
_REFUSAL_STATUS = {
    RefusalKind.UNAUTHENTICATED: (HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED"),
    RefusalKind.PERMISSION_DENIED: (HTTPStatus.FORBIDDEN, "PERMISSION_DENIED"),
    RefusalKind.INVALID_ARGUMENT: (HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
    RefusalKind.NOT_FOUND: (HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST"),
    RefusalKind.UNIMPLEMENTED: (HTTPStatus.NOT_IMPLEMENTED, "NOT_IMPLEMENTED"),
}


def refused(refusal: Refusal) -> ApiError:
    status, error_code = _REFUSAL_STATUS[refusal.kind]
    return uc_error(status, error_code, refusal.message)


def caller_of(core: ServerCore, headers: Any) -> Caller:
    """The caller the request's bearer token names (401 without a valid one)."""
    try:
        return authenticate(core, headers.get(AUTHORIZATION_HEADER))
    except Refusal as refusal:
        raise refused(refusal) from None


def require_any(
    caller: Caller, privileges: tuple[str, ...], full_path: str, securable: str = "Table"
) -> None:
    """403 unless the caller holds one of `privileges` on `full_path`."""
    try:
        require(caller, privileges, full_path, securable)
    except Refusal as refusal:
        raise refused(refusal) from None
