"""Internal: The workspace HTTP API: OAuth token endpoint and Unity Catalog tables REST (stdlib server).

Routes (errors are Databricks-style JSON ``{"error_code": ..., "message": ...}``; OAuth errors
use OAuth's ``{"error": ..., "error_description": ...}``, see `http_errors`):

- ``POST /oidc/v1/token``: client credentials (HTTP Basic or form fields), ``grant_type``,
  ``scope``, optional ``resource`` and ``authorization_details`` (docs/PROTOCOL.md section 2). Every
  privilege asked for in ``authorization_details`` must be granted to the principal, else 400
  ``invalid_request`` "User is not authorized to the requested authorizations".
- ``POST /oidc/v1/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``:
  an external-IdP JWT exchanged for an access token (RFC 8693, see `token_exchange`).
- ``POST /dev-idp/token`` (``subject``, ``audience``, ``expires_in``): emulator-only; a JWT of
  the development identity provider (`dev_idp`) to exchange. Both in `oauth_routes`.
- ``GET /api/2.1/unity-catalog/tables?catalog_name=&schema_name=``: ``{"tables": [...]}``.
- ``GET|DELETE /api/2.1/unity-catalog/tables/{full_name}``.
- ``POST /api/2.1/unity-catalog/tables``: ``{"catalog_name", "schema_name", "name", "columns":
  [{"name", "type_text" or "type_json", "nullable", "comment", "position"}], "comment"}``.
  The three in `uc_tables_routes`.
- ``GET /api/2.0/zerobus-emulator/tables/{full_name}/rows?limit=N``: emulator-only; the table's
  rows after materialising everything acknowledged, as JSON (dates and timestamps ISO-8601,
  decimals as strings, binary as base64, the floats NaN and +-infinity as the strings ``"NaN"``,
  ``"Infinity"`` and ``"-Infinity"``: JSON has no such numbers). With ``wait_for=N`` (and
  ``timeout_s``, default 30), first waits until the table holds at least N rows (408 if not).
  See `rows_route`.
- ``GET /health`` and ``GET /api/2.0/zerobus-emulator/stats``: emulator-only, no token;
  see `zerobus.server.frontends.observability`.

The REST routes need a bearer token from the token endpoint: SELECT (or MODIFY) on a table to
read it, CREATE TABLE on the schema to create one, MANAGE (or ALL PRIVILEGES) to drop it. The
principal must hold the privilege, and a token minted with ``authorization_details`` must name
it too: an ingest token for one table cannot see, create or drop any other.

Client mistakes are 4xx naming the field and value, never 500 (`http_handler` reads requests):
a Content-Length that is not one plain decimal number (the connection is then closed: the
body's end is unknown), names that are not exactly ``catalog.schema.table`` (`zerobus.names`),
privileges that are not a JSON array of known names, JSON booleans given as strings, JSON
nested deeper than `zerobus.json_depth.MAX_JSON_DEPTH`, a row ``limit`` that is not 0-999999999.
"""

from __future__ import annotations

import ssl
import threading
from http.server import ThreadingHTTPServer

from zerobus.server.frontends.http_handler import RequestHandler
from zerobus.server.frontends.http_hangups import WorkspaceThreadingServer
from zerobus.server.frontends.observability import EmulatorStatus
from zerobus.server.frontends.rows_route import ReadRows
from zerobus.server.identity.tls import TlsHttpServer
from zerobus.server.server_core import ServerCore

__all__ = ["WorkspaceHttpServer"]


class WorkspaceHttpServer:
    """The HTTP front-end over `ServerCore`, serving in a background thread."""

    def __init__(
        self,
        core: ServerCore,
        host: str,
        port: int,
        read_rows: ReadRows,
        ssl_context: ssl.SSLContext | None = None,
        status: EmulatorStatus | None = None,
    ) -> None:
        self.core = core
        self.read_rows = read_rows
        self.status = status
        # `timeout` is applied to every accepted socket by the stdlib handler's setup().
        handler = type(
            "BoundHandler", (RequestHandler,), {"api": self, "timeout": core.config.http_read_timeout_s}
        )
        self._server: ThreadingHTTPServer = (
            WorkspaceThreadingServer((host, port), handler)
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
