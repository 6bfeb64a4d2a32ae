"""A client that hangs up in the middle of an HTTP exchange (a probe, an aborted curl, a killed
process) is no error of the emulator's: nothing is printed, and the server goes on serving."""

from __future__ import annotations

import json
import socket
import struct
import urllib.request

import pytest

from zerobus.server import LocalZerobusServer

HANGUPS = 10


def _hang_up_abruptly(port: int) -> None:
    """Send a request, then close with a reset (SO_LINGER 0) before the answer is read."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")


def test_clients_hanging_up_print_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    with LocalZerobusServer() as server:
        for _ in range(HANGUPS):
            _hang_up_abruptly(server.http_port)
        with urllib.request.urlopen(f"{server.workspace_url}/health", timeout=30) as response:
            assert json.loads(response.read())["status"] == "ok"
    errors = capfd.readouterr().err
    assert "Traceback" not in errors and "Exception occurred" not in errors, errors
