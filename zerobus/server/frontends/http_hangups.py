"""Internal: how the HTTP front-end reports an exception that escaped its request handler.

The stdlib server prints a traceback to stderr for any exception that escapes a handler, so a
client that hangs up mid-exchange (a protocol probe, an aborted curl, a killed process) printed
one to the emulator's terminal. A hang-up is the client's choice, not a server fault: it is
logged at debug; anything else is logged as an error, through logging like every other message.
"""

from __future__ import annotations

import logging
import socketserver
import ssl
import sys
from http.server import ThreadingHTTPServer
from typing import Any

__all__ = ["ClientHangupsLogged", "WorkspaceThreadingServer"]

logger = logging.getLogger(__name__)

# What a socket raises when its peer has gone: reset, broken pipe, aborted, or TLS cut short.
HANGUPS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)


class ClientHangupsLogged(socketserver.BaseServer):
    """A server mix-in: `handle_error` logs instead of printing (see the module docstring)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, HANGUPS):
            logger.debug("http client %s hung up: %s", client_address, error)
            return
        logger.error("http request from %s failed", client_address, exc_info=True)


class WorkspaceThreadingServer(ClientHangupsLogged, ThreadingHTTPServer):
    """The plaintext HTTP server of the workspace front-end (one thread per connection)."""
