"""Internal: `authorization_details` of a token request: parsed strictly, and each privilege checked.

The official SDKs ask for an ingest token naming the table and the privileges they need
(docs/PROTOCOL.md section 2). Every entry must be well formed (a known object type, a valid name,
a JSON array of known privilege names) and every privilege granted to the principal; the
(object, privilege) pairs become the token's scope, which gRPC and REST both enforce.
"""

from __future__ import annotations

from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.json_depth import JsonTooDeep, loads_within_depth
from zerobus.names import check_name_part
from zerobus.protocol.constants import AUTHORIZATION_DETAILS_TYPE
from zerobus.server.identity.auth import KNOWN_PRIVILEGES, AuthError, Principal

__all__ = ["requested_privileges"]

_OBJECT_TYPES = {"CATALOG": 1, "SCHEMA": 2, "TABLE": 3}


def _refused(message: str) -> AuthError:
    return AuthError(400, "invalid_request", message)


def requested_privileges(principal: Principal, text: str | None) -> list[tuple[str, str]]:
    """The (object, privilege) pairs asked for; each must be granted to the principal."""
    if not text:
        return []
    try:
        details = loads_within_depth(text)
    except JsonTooDeep as error:
        raise _refused(f"authorization_details: {error}") from None
    except ValueError:
        raise _refused("authorization_details is not valid JSON") from None
    if not isinstance(details, list):
        raise _refused("authorization_details must be a JSON array")
    authorized: list[tuple[str, str]] = []
    for detail in details:
        path, object_type, privileges = _authorization_detail(detail)
        for privilege in privileges:
            if not principal.has_privilege(privilege, path):
                raise _refused(
                    f"User is not authorized to the requested authorizations: '{principal.client_id}' lacks "
                    f"{privilege} on {object_type} {path}",
                )
            authorized.append((path, privilege))
    return authorized


def _authorization_detail(detail: Any) -> tuple[str, str, list[str]]:
    """One entry of `authorization_details` checked: (object_full_path, object_type, privileges)."""
    if not isinstance(detail, dict) or detail.get("type") != AUTHORIZATION_DETAILS_TYPE:
        raise _refused(f"unsupported authorization detail {detail!r}")
    path, object_type = detail.get("object_full_path"), detail.get("object_type")
    parts = _OBJECT_TYPES.get(object_type.upper()) if isinstance(object_type, str) else None
    if (
        parts is None
        or not isinstance(object_type, str)
        or not isinstance(path, str)
        or len(path.split(".")) != parts
    ):
        raise _refused(f"bad object_type/object_full_path in {detail!r}")
    try:
        for part in path.split("."):
            check_name_part(part, "object_full_path part")
    except ConfigurationError as error:
        raise _refused(f"{error} in {detail!r}") from None
    privileges = detail.get("privileges")
    if not isinstance(privileges, list) or not all(isinstance(p, str) for p in privileges):
        raise _refused(
            f"privileges must be a JSON array of strings, got {privileges!r} in {detail!r}",
        )
    normalized = [p.strip().upper() for p in privileges]
    unknown = [p for p, n in zip(privileges, normalized, strict=True) if n not in KNOWN_PRIVILEGES]
    if unknown:
        raise _refused(
            f"unknown privileges {unknown} in {detail!r}; known: {sorted(KNOWN_PRIVILEGES)}",
        )
    return path, object_type.upper(), normalized
