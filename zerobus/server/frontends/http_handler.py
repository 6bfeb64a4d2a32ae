"""Internal: One HTTP connection's requests: read each whole and in time, route it, answer JSON.

Client mistakes are 4xx naming the field and value, never 500: a Content-Length that is not
one plain decimal number, or a body cut short, also closes the connection (the body's end is
unknown); a body that does not arrive within the read timeout is a 408 (`http_timeouts`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from zerobus.protocol.constants import TOKEN_PATH, UC_TABLES_PATH
from zerobus.server.frontends import oauth_routes, rows_route, uc_tables_routes
from zerobus.server.frontends.http_errors import ApiError, caller_of, oauth_error, uc_error
from zerobus.server.frontends.http_timeouts import RequestDeadline, RequestTimedOut
from zerobus.server.frontends.observability import HEALTH_PATH, STATS_PATH, log_http_request
from zerobus.server.identity.dev_idp import DEV_IDP_TOKEN_PATH

if TYPE_CHECKING:
    from zerobus.server.frontends.http_api import WorkspaceHttpServer

__all__ = ["RequestHandler"]

logger = logging.getLogger(__name__)

_MAX_BODY = 16 * 1024 * 1024
_CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")


class RequestHandler(BaseHTTPRequestHandler):
    """The stdlib handler of the workspace API; `api` is set on a subclass per server."""

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
        except ApiError as error:
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
            raise uc_error(
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
            raise uc_error(
                HTTPStatus.BAD_REQUEST,
                "MALFORMED_REQUEST",
                f"Content-Length must be one non-negative decimal number, got {', '.join(map(repr, values))}",
            )
        length = int(text)
        if length > _MAX_BODY:
            self.close_connection = True
            raise uc_error(
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
            raise uc_error(
                HTTPStatus.REQUEST_TIMEOUT, "REQUEST_TIMEOUT", f"{error} (Content-Length {length})"
            ) from None
        if len(body) < length:
            self.close_connection = True
            raise uc_error(
                HTTPStatus.BAD_REQUEST,
                "MALFORMED_REQUEST",
                f"the connection ended after {len(body)} of the {length} body bytes announced by Content-Length",
            )
        return body

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        api = self.api
        core = api.core
        if api.status is not None and method == "GET" and path in (HEALTH_PATH, STATS_PATH):
            return api.status.health() if path == HEALTH_PATH else api.status.stats()
        if path == TOKEN_PATH:
            if method != "POST":
                raise oauth_error(405, "invalid_request", "use POST")
            return oauth_routes.token(core, self.headers, body)
        if path == DEV_IDP_TOKEN_PATH:
            if method != "POST":
                raise oauth_error(405, "invalid_request", "use POST")
            return oauth_routes.dev_idp_token(core, body)
        if path == UC_TABLES_PATH:
            caller = caller_of(core, self.headers)
            if method == "GET":
                return uc_tables_routes.list_tables(core, caller, query)
            if method == "POST":
                return uc_tables_routes.create_table(core, caller, body)
        elif path.startswith(UC_TABLES_PATH + "/"):
            caller = caller_of(core, self.headers)
            full_name = unquote(path[len(UC_TABLES_PATH) + 1 :])
            if method == "GET":
                return uc_tables_routes.get_table(core, caller, full_name)
            if method == "DELETE":
                return uc_tables_routes.delete_table(core, caller, full_name)
        elif path.startswith(rows_route.ROWS_PREFIX) and path.endswith("/rows") and method == "GET":
            caller = caller_of(core, self.headers)
            full_name = unquote(path[len(rows_route.ROWS_PREFIX) : -len("/rows")])
            return rows_route.rows(core, api.read_rows, caller, full_name, query)
        else:
            raise uc_error(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"no endpoint {path}")
        raise uc_error(
            HTTPStatus.METHOD_NOT_ALLOWED, "INVALID_PARAMETER_VALUE", f"{method} is not supported on {path}"
        )

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")
