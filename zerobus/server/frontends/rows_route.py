"""Internal: The HTTP API's emulator-only rows route: a table's rows as JSON, after materialisation.

``GET /api/2.0/zerobus-emulator/tables/{full_name}/rows?limit=N`` answers the table's rows after
materialising everything acknowledged (SELECT needed), as JSON: dates and timestamps ISO-8601,
decimals as strings, binary as base64, the floats NaN and +-infinity as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` (JSON has no such numbers). With ``wait_for=N`` (and
``timeout_s``, default 30), it first waits until the table holds at least N rows (408 if not).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from zerobus.server.frontends.http_errors import require_any, uc_error
from zerobus.server.frontends.uc_tables_routes import table_entry
from zerobus.server.identity.auth import Caller
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.delta_recovery import TableUnavailable
from zerobus.server.storage.quarantine import FramesQuarantined, MaterializationFailing
from zerobus.server.storage.row_visibility import wait_for_rows

__all__ = ["ROWS_PREFIX", "ReadRows", "json_safe", "rows"]

ROWS_PREFIX = "/api/2.0/zerobus-emulator/tables/"

# (full name, limit) -> the table's rows in log order, after materialising what was acknowledged.
ReadRows = Callable[[str, "int | None"], list[dict[str, Any]]]

# Up to a billion rows: an ASCII decimal, no sign, spaces, underscores or Unicode digits.
_LIMIT_TEXT = re.compile(r"[0-9]{1,9}")


def json_safe(value: Any) -> Any:
    """Python values read back from Delta -> JSON values (see the module docstring)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):
            return {str(k): json_safe(v) for k, v in value}  # an Arrow map read back as pairs
        return [json_safe(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def rows(
    core: ServerCore, read_rows: ReadRows, caller: Caller, full_name: str, query: dict[str, str]
) -> dict[str, Any]:
    """The rows route's answer: ``{"rows": [...]}``."""
    entry = table_entry(core, full_name)
    require_any(caller, ("SELECT",), entry.full_name)
    limit_text = query.get("limit")
    limit = None if limit_text is None else _row_limit(limit_text)
    try:
        if "wait_for" in query:
            wait_for_rows(
                core, entry.full_name, _row_limit(query["wait_for"]), _wait_timeout(query.get("timeout_s"))
            )
        found = read_rows(entry.full_name, limit)
    except TimeoutError as error:
        raise uc_error(HTTPStatus.REQUEST_TIMEOUT, "ROWS_NOT_VISIBLE", str(error)) from None
    except TableUnavailable as error:
        raise uc_error(HTTPStatus.SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", str(error)) from None
    except FramesQuarantined as error:
        # Acknowledged records are missing from Delta: say so instead of answering with fewer rows.
        raise uc_error(HTTPStatus.CONFLICT, "ROWS_QUARANTINED", str(error)) from None
    except MaterializationFailing as error:
        raise uc_error(HTTPStatus.SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", str(error)) from None
    return {"rows": json_safe(found)}


def _wait_timeout(text: str | None) -> float:
    """`timeout_s` of a rows wait: 0.001 to 3600 seconds (default 30)."""
    if text is None:
        return 30.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 3600:
        raise uc_error(
            HTTPStatus.BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            f"timeout_s must be a number of seconds above 0 and at most 3600, got {text!r}",
        )
    return value


def _row_limit(text: str) -> int:
    if _LIMIT_TEXT.fullmatch(text) is None:
        raise uc_error(
            HTTPStatus.BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            f"limit must be a whole number of rows from 0 to 999999999, got {text!r}",
        )
    return int(text)
