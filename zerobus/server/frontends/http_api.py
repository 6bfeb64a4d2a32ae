"""The workspace HTTP API: OAuth token endpoint and Unity Catalog tables REST (stdlib server).

Routes (errors are Databricks-style JSON ``{"error_code": ..., "message": ...}``; OAuth errors
use OAuth's ``{"error": ..., "error_description": ...}``):

- ``POST /oidc/v1/token``: client credentials (HTTP Basic or form fields), ``grant_type``,
  ``scope``, optional ``resource`` and ``authorization_details`` (docs/PROTOCOL.md section 2). Every
  privilege asked for in ``authorization_details`` must be granted to the principal, else 400
  ``invalid_request`` "User is not authorized to the requested authorizations".
- ``POST /oidc/v1/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``:
  an external-IdP JWT exchanged for an access token (RFC 8693, see `token_exchange`).
- ``POST /dev-idp/token`` (``subject``, ``audience``, ``expires_in``): emulator-only; a JWT of
  the development identity provider (`dev_idp`) to exchange.
- ``GET /api/2.1/unity-catalog/tables?catalog_name=&schema_name=``: ``{"tables": [...]}``.
- ``GET|DELETE /api/2.1/unity-catalog/tables/{full_name}``.
- ``POST /api/2.1/unity-catalog/tables``: ``{"catalog_name", "schema_name", "name", "columns":
  [{"name", "type_text" or "type_json", "nullable", "comment", "position"}], "comment"}``.
- ``GET /api/2.0/zerobus-emulator/tables/{full_name}/rows?limit=N``: emulator-only; the table's
  rows after materialising everything acknowledged, as JSON (dates and timestamps ISO-8601,
  decimals as strings, binary as base64, the floats NaN and +-infinity as the strings ``"NaN"``,
  ``"Infinity"`` and ``"-Infinity"``: JSON has no such numbers). With ``wait_for=N`` (and
  ``timeout_s``, default 30), first waits until the table holds at least N rows (408 if not).
- ``GET /health`` and ``GET /api/2.0/zerobus-emulator/stats``: emulator-only, no token;
  see `zerobus.server.frontends.observability`.

The REST routes need a bearer token from the token endpoint: SELECT (or MODIFY) on a table to
read it, CREATE TABLE on the schema to create one, MANAGE (or ALL PRIVILEGES) to drop it. The
principal must hold the privilege, and a token minted with ``authorization_details`` must name
it too: an ingest token for one table cannot see, create or drop any other.

Client mistakes are 4xx naming the field and value, never 500: a Content-Length that is not
one plain decimal number (the connection is then closed: the body's end is unknown), names
that are not exactly ``catalog.schema.table`` (`zerobus.names`), privileges that are not a
JSON array of known names, JSON booleans given as strings, JSON nested deeper than
`zerobus.json_depth.MAX_JSON_DEPTH`, a row ``limit`` that is not 0-999999999.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import logging
import math
import re
import ssl
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from zerobus.errors import ConfigurationError, SchemaError
from zerobus.json_depth import JsonTooDeep, loads_within_depth
from zerobus.names import check_name_part, parse_table_name
from zerobus.protocol.constants import (
    AUTHORIZATION_HEADER,
    CLIENT_CREDENTIALS_GRANT,
    OAUTH_SCOPE,
    TOKEN_PATH,
    UC_TABLES_PATH,
)
from zerobus.schema.parse import schema_from_uc_json
from zerobus.server.decisions import Refusal, RefusalKind, authenticate, may_see_table, require
from zerobus.server.frontends.http_timeouts import RequestDeadline, RequestTimedOut
from zerobus.server.frontends.observability import HEALTH_PATH, STATS_PATH, EmulatorStatus, log_http_request
from zerobus.server.identity.auth import AuthError, Caller
from zerobus.server.identity.authorization_details import requested_privileges
from zerobus.server.identity.dev_idp import DEV_IDP_TOKEN_PATH, issue_from_form
from zerobus.server.identity.tls import TlsHttpServer
from zerobus.server.identity.token_exchange import TOKEN_EXCHANGE_GRANT, exchange_token
from zerobus.server.server_core import ServerCore
from zerobus.server.storage.catalog import TableAlreadyExists, TableEntry, TableNotFound
from zerobus.server.storage.delta_recovery import TableUnavailable
from zerobus.server.storage.quarantine import FramesQuarantined, MaterializationFailing
from zerobus.server.storage.row_visibility import wait_for_rows

__all__ = ["ROWS_PREFIX", "TABLES_PATH", "TOKEN_PATH", "WorkspaceHttpServer", "json_safe"]

logger = logging.getLogger(__name__)

TABLES_PATH = UC_TABLES_PATH
ROWS_PREFIX = "/api/2.0/zerobus-emulator/tables/"
_MAX_BODY = 16 * 1024 * 1024
_CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")


class _ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _uc_error(status: HTTPStatus, error_code: str, message: str) -> _ApiError:
    return _ApiError(status, {"error_code": error_code, "message": message})


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


class WorkspaceHttpServer:
    """The HTTP front-end over `ServerCore`, serving in a background thread."""

    def __init__(
        self,
        core: ServerCore,
        host: str,
        port: int,
        read_rows: Callable[[str, int | None], list[dict[str, Any]]],
        ssl_context: ssl.SSLContext | None = None,
        status: EmulatorStatus | None = None,
    ) -> None:
        self.core = core
        self.read_rows = read_rows
        self.status = status
        # `timeout` is applied to every accepted socket by the stdlib handler's setup().
        handler = type("BoundHandler", (_Handler,), {"api": self, "timeout": core.config.http_read_timeout_s})
        self._server: ThreadingHTTPServer = (
            ThreadingHTTPServer((host, port), handler)
            if ssl_context is None
            else TlsHttpServer((host, port), handler, ssl_context, self._count_handshake_failure)
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="zerobus-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def _count_handshake_failure(self) -> None:
        self.core.stats.https_handshakes_failed += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- routes -----------------------------------------------------------------------------------

    def token(self, headers: Any, body: bytes) -> dict[str, Any]:
        form = {
            k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        if form.get("grant_type") == TOKEN_EXCHANGE_GRANT:
            core = self.core
            try:
                return exchange_token(form, core.idp, core.federation, core.principals, core.tokens)
            except AuthError as error:
                raise _oauth_error(error.status, error.error, error.message) from None
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = headers.get(AUTHORIZATION_HEADER, "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, client_secret = (
                    base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                )
            except (ValueError, UnicodeDecodeError):
                raise _oauth_error(400, "invalid_request", "malformed Basic authorization header") from None
        if not client_id or client_secret is None:
            raise _oauth_error(401, "invalid_client", "client credentials are missing (use HTTP Basic auth)")
        try:
            principal = self.core.principals.authenticate(client_id, client_secret)
        except AuthError as error:
            raise _oauth_error(error.status, error.error, error.message) from None
        if form.get("grant_type") != CLIENT_CREDENTIALS_GRANT:
            raise _oauth_error(
                400,
                "unsupported_grant_type",
                f"grant_type must be client_credentials or {TOKEN_EXCHANGE_GRANT}, got {form.get('grant_type')!r}",
            )
        scope = form.get("scope", "")
        if OAUTH_SCOPE not in scope.split():
            raise _oauth_error(400, "invalid_scope", f"scope must be '{OAUTH_SCOPE}'")
        try:
            authorized = requested_privileges(principal, form.get("authorization_details"))
        except AuthError as error:
            raise _oauth_error(error.status, error.error, error.message) from None
        token = self.core.tokens.issue(principal, scope, form.get("resource") or None, authorized)
        return {
            "access_token": token.value,
            "token_type": "Bearer",
            "expires_in": int(self.core.tokens.lifetime_s),
            "scope": scope,
        }

    def dev_idp_token(self, body: bytes) -> dict[str, Any]:
        form = {
            k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        try:
            return issue_from_form(self.core.idp, form)
        except ValueError as error:
            raise _oauth_error(400, "invalid_request", str(error)) from None

    def caller(self, headers: Any) -> Caller:
        try:
            return authenticate(self.core, headers.get(AUTHORIZATION_HEADER))
        except Refusal as refusal:
            raise _refused(refusal) from None

    def get_table(self, caller: Caller, full_name: str) -> dict[str, Any]:
        entry = self._entry(full_name)
        _require_any(caller, ("SELECT", "MODIFY"), entry.full_name)
        return entry.to_uc_json()

    def list_tables(self, caller: Caller, query: dict[str, str]) -> dict[str, Any]:
        catalog, schema = query.get("catalog_name"), query.get("schema_name")
        tables = []
        for entry in self.core.catalog.entries():
            name = parse_table_name(entry.full_name)
            if catalog and name.catalog.lower() != catalog.lower():
                continue
            if schema and name.schema.lower() != schema.lower():
                continue
            if may_see_table(caller, entry.full_name):
                tables.append(entry.to_uc_json())
        return {"tables": tables}

    def create_table(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        try:
            parts = [check_name_part(body[k], k) for k in ("catalog_name", "schema_name", "name")]
            name = parse_table_name(".".join(parts))
        except KeyError as error:
            raise _uc_error(
                HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"missing field {error}"
            ) from None
        except ConfigurationError as error:
            raise _uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
        _require_any(caller, ("CREATE TABLE",), f"{name.catalog}.{name.schema}", "Schema")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise _uc_error(
                HTTPStatus.BAD_REQUEST,
                "INVALID_PARAMETER_VALUE",
                f"comment must be a string or null, got {comment!r}",
            )
        try:
            schema = schema_from_uc_json({"full_name": name.full_name, "columns": body.get("columns")})
            entry = self.core.create_table(name.full_name, schema, comment)
        except (SchemaError, ValueError) as error:
            if isinstance(error, TableAlreadyExists):
                raise _uc_error(HTTPStatus.CONFLICT, "TABLE_ALREADY_EXISTS", str(error)) from None
            raise _uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
        return entry.to_uc_json()

    def delete_table(self, caller: Caller, full_name: str) -> dict[str, Any]:
        entry = self._entry(full_name)
        _require_any(caller, ("MANAGE",), entry.full_name)
        try:
            self.core.drop_table(entry.full_name)
        except TableNotFound as error:
            raise _uc_error(HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST", str(error)) from None
        return {}

    def rows(self, caller: Caller, full_name: str, query: dict[str, str]) -> dict[str, Any]:
        entry = self._entry(full_name)
        _require_any(caller, ("SELECT",), entry.full_name)
        limit_text = query.get("limit")
        limit = None if limit_text is None else _row_limit(limit_text)
        try:
            if "wait_for" in query:
                wait_for_rows(
                    self.core,
                    entry.full_name,
                    _row_limit(query["wait_for"]),
                    _wait_timeout(query.get("timeout_s")),
                )
            rows = self.read_rows(entry.full_name, limit)
        except TimeoutError as error:
            raise _uc_error(HTTPStatus.REQUEST_TIMEOUT, "ROWS_NOT_VISIBLE", str(error)) from None
        except TableUnavailable as error:
            raise _uc_error(HTTPStatus.SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", str(error)) from None
        except FramesQuarantined as error:
            # Acknowledged records are missing from Delta: say so instead of answering with fewer rows.
            raise _uc_error(HTTPStatus.CONFLICT, "ROWS_QUARANTINED", str(error)) from None
        except MaterializationFailing as error:
            raise _uc_error(HTTPStatus.SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE", str(error)) from None
        return {"rows": json_safe(rows)}

    def _entry(self, full_name: str) -> TableEntry:
        try:
            parse_table_name(full_name)
            return self.core.catalog.get(full_name)
        except ConfigurationError as error:
            raise _uc_error(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", str(error)) from None
        except TableNotFound as error:
            raise _uc_error(HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST", str(error)) from None


def _oauth_error(status: int, error: str, description: str) -> _ApiError:
    return _ApiError(status, {"error": error, "error_description": description})


def _require_any(
    caller: Caller, privileges: tuple[str, ...], full_path: str, securable: str = "Table"
) -> None:
    try:
        require(caller, privileges, full_path, securable)
    except Refusal as refusal:
        raise _refused(refusal) from None


# How each kind of refusal of the decision core (`zerobus.server.decisions`) reads on this API.
_REFUSAL_STATUS = {
    RefusalKind.UNAUTHENTICATED: (HTTPStatus.UNAUTHORIZED, "UNAUTHENTICATED"),
    RefusalKind.PERMISSION_DENIED: (HTTPStatus.FORBIDDEN, "PERMISSION_DENIED"),
    RefusalKind.INVALID_ARGUMENT: (HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
    RefusalKind.NOT_FOUND: (HTTPStatus.NOT_FOUND, "TABLE_DOES_NOT_EXIST"),
    RefusalKind.UNIMPLEMENTED: (HTTPStatus.NOT_IMPLEMENTED, "NOT_IMPLEMENTED"),
}


def _refused(refusal: Refusal) -> _ApiError:
    status, error_code = _REFUSAL_STATUS[refusal.kind]
    return _uc_error(status, error_code, refusal.message)


# Up to a billion rows: an ASCII decimal, no sign, spaces, underscores or Unicode digits.
_LIMIT_TEXT = re.compile(r"[0-9]{1,9}")


def _wait_timeout(text: str | None) -> float:
    """`timeout_s` of a rows wait: 0.001 to 3600 seconds (default 30)."""
    if text is None:
        return 30.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 3600:
        raise _uc_error(
            HTTPStatus.BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            f"timeout_s must be a number of seconds above 0 and at most 3600, got {text!r}",
        )
    return value


def _row_limit(text: str) -> int:
    if _LIMIT_TEXT.fullmatch(text) is None:
        raise _uc_error(
            HTTPStatus.BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            f"limit must be a whole number of rows from 0 to 999999999, got {text!r}",
        )
    return int(text)


class _Handler(BaseHTTPRequestHandler):
    api: WorkspaceHttpServer
    protocol_version = "HTTP/1.1"
    _started = 0.0
    server_version = "zerobus-emulator"

    def setup(self) -> None:
        super().setup()  # applies `timeout` to the socket
        # Every request must arrive whole within the read timeout (see http_timeouts).
        self.rfile.close()  # the stdlib's reader: its hold on the socket would outlive the request
        self._deadline = RequestDeadline(self.connection, self.api.core.config.http_read_timeout_s)
        self.rfile = self._deadline.reader

    def handle_one_request(self) -> None:
        self._started = time.perf_counter()
        self._deadline.start_request()
        super().handle_one_request()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s - " + format, self.address_string(), *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log_http_request(self.command or "-", self.path, code if isinstance(code, int) else 0, self._started)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            length = self._content_length()
            body = self._read_body(length) if length else b""
            status, payload = HTTPStatus.OK, self._route(method, path, query, body)
        except _ApiError as error:
            status, payload = HTTPStatus(error.status), error.body
        except Exception as error:
            logger.exception("http %s %s failed", method, self.path)
            status, payload = (
                HTTPStatus.INTERNAL_SERVER_ERROR,
                {"error_code": "INTERNAL_ERROR", "message": str(error)},
            )
        data = json.dumps(payload, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _content_length(self) -> int:
        """The body's length; a bad or too large one also ends the connection (its end is unknown)."""
        if self.headers.get("Transfer-Encoding") is not None:
            self.close_connection = True
            raise _uc_error(
                HTTPStatus.LENGTH_REQUIRED,
                "MALFORMED_REQUEST",
                "Transfer-Encoding is not supported: send the body with a Content-Length",
            )
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return 0
        text = values[0].strip()
        if len(set(values)) > 1 or _CONTENT_LENGTH.fullmatch(text) is None:
            self.close_connection = True
            raise _uc_error(
                HTTPStatus.BAD_REQUEST,
                "MALFORMED_REQUEST",
                f"Content-Length must be one non-negative decimal number, got {', '.join(map(repr, values))}",
            )
        length = int(text)
        if length > _MAX_BODY:
            self.close_connection = True
            raise _uc_error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "INVALID_PARAMETER_VALUE",
                f"request body too large: Content-Length {length} exceeds {_MAX_BODY} bytes",
            )
        return length

    def _read_body(self, length: int) -> bytes:
        """The whole body, in time (else 408); either way a body cut short ends the connection."""
        try:
            body = self.rfile.read(length)
        except RequestTimedOut as error:
            self.close_connection = True
            raise _uc_error(
                HTTPStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT", f"{error} (Content-Length {length})"
            ) from None
        if len(body) < length:
            self.close_connection = True
            raise _uc_error(
                HTTPStatus.BAD_REQUEST,
                "MALFORMED_REQUEST",
                f"the connection ended after {len(body)} of the {length} body bytes announced by Content-Length",
            )
        return body

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        api = self.api
        if api.status is not None and method == "GET" and path in (HEALTH_PATH, STATS_PATH):
            return api.status.health() if path == HEALTH_PATH else api.status.stats()
        if path == TOKEN_PATH:
            if method != "POST":
                raise _oauth_error(405, "invalid_request", "use POST")
            return api.token(self.headers, body)
        if path == DEV_IDP_TOKEN_PATH:
            if method != "POST":
                raise _oauth_error(405, "invalid_request", "use POST")
            return api.dev_idp_token(body)
        if path == TABLES_PATH:
            caller = api.caller(self.headers)
            if method == "GET":
                return api.list_tables(caller, query)
            if method == "POST":
                try:
                    document = loads_within_depth(body or b"{}")
                except JsonTooDeep as error:
                    raise _uc_error(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", f"body: {error}") from None
                except ValueError as error:
                    raise _uc_error(
                        HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", f"body is not JSON (UTF-8): {error}"
                    ) from None
                if not isinstance(document, dict):
                    raise _uc_error(HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "body must be a JSON object")
                return api.create_table(caller, document)
        elif path.startswith(TABLES_PATH + "/"):
            caller = api.caller(self.headers)
            full_name = unquote(path[len(TABLES_PATH) + 1 :])
            if method == "GET":
                return api.get_table(caller, full_name)
            if method == "DELETE":
                return api.delete_table(caller, full_name)
        elif path.startswith(ROWS_PREFIX) and path.endswith("/rows") and method == "GET":
            caller = api.caller(self.headers)
            return api.rows(caller, unquote(path[len(ROWS_PREFIX) : -len("/rows")]), query)
        else:
            raise _uc_error(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"no endpoint {path}")
        raise _uc_error(
            HTTPStatus.METHOD_NOT_ALLOWED, "INVALID_PARAMETER_VALUE", f"{method} is not supported on {path}"
        )

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")
