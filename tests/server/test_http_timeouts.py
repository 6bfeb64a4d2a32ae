"""HTTP clients that never finish a request are dropped; everyone else keeps being served."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.server.wire_client import get_token
from zerobus.server import LocalZerobusServer

TIMEOUT_S = 0.5
HEADERS = b"POST /oidc/v1/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalZerobusServer]:
    data_dir: Path = tmp_path_factory.mktemp("http-timeouts")
    with LocalZerobusServer(data_dir=data_dir, http_read_timeout_s=TIMEOUT_S) as running:
        yield running


def _connect(server: LocalZerobusServer) -> socket.socket:
    # The client's own timeout only bounds a broken server: the server must act well before it.
    return socket.create_connection(("127.0.0.1", server.http_port), timeout=30)


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_request_whose_body_never_comes_is_answered_408_and_closed(server: LocalZerobusServer) -> None:
    with _connect(server) as silent:
        silent.sendall(HEADERS)  # Content-Length: 100, and no body
        assert get_token(server, "a.b.c").status_code == 200  # served while the silent one waits
        response = _read_until_closed(silent)
    assert response.startswith(b"HTTP/1.1 408 ")
    assert b"the request did not arrive whole within 0.5 s (Content-Length 100)" in response


def _trickle_until_closed(server: LocalZerobusServer, first: bytes, then: bytes) -> tuple[bytes, int]:
    """Send `first`, then `then` one byte at a time, each well within the per-read timeout.

    Returns what the server answered before closing, and how many of the trickled bytes it took.
    """
    closed = threading.Event()
    sent: list[int] = []
    with _connect(server) as slow:
        slow.sendall(first)

        def trickle() -> None:
            # Each byte comes well within the per-read timeout; the whole body never does in time.
            for byte in then:
                if closed.wait(TIMEOUT_S / 5):
                    return
                try:
                    slow.send(bytes([byte]))
                except OSError:
                    return
                sent.append(1)

        sender = threading.Thread(target=trickle)
        sender.start()
        response = _read_until_closed(slow)
        closed.set()
        sender.join()
    return response, len(sent)


def test_a_body_trickled_byte_by_byte_is_cut_off_at_the_deadline(server: LocalZerobusServer) -> None:
    response, sent = _trickle_until_closed(server, HEADERS, b"x" * 100)
    assert response.startswith(b"HTTP/1.1 408 ")
    assert sent < 100


def test_headers_trickled_byte_by_byte_are_cut_off_at_the_deadline(server: LocalZerobusServer) -> None:
    headers = b"Host: 127.0.0.1\r\n" + b"X-Padding: " + b"p" * 100 + b"\r\n\r\n"
    response, sent = _trickle_until_closed(server, b"GET /api/2.1/unity-catalog/tables HTTP/1.1\r\n", headers)
    assert response == b""  # dropped without an answer: the request never became one
    assert sent < len(headers)


def test_a_body_cut_short_by_the_client_is_refused_by_name(server: LocalZerobusServer) -> None:
    with _connect(server) as client:
        client.sendall(HEADERS + b"x" * 10)
        client.shutdown(socket.SHUT_WR)
        response = _read_until_closed(client)
    assert response.startswith(b"HTTP/1.1 400 ")
    assert b"the connection ended after 10 of the 100 body bytes announced by Content-Length" in response


def test_an_idle_connection_is_closed(server: LocalZerobusServer) -> None:
    with _connect(server) as idle:
        assert _read_until_closed(idle) == b""  # closed by the server without a request


def test_read_timeout_must_be_positive(tmp_path: Path) -> None:
    from zerobus.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="http_read_timeout_s must be > 0, got 0"):
        LocalZerobusServer(data_dir=tmp_path, http_read_timeout_s=0)


def test_the_emulator_cli_takes_the_read_timeout(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "zerobus.server.cli", "start", "--in-memory", "--grpc-port", "0"]
    command += ["--http-port", "0", "--http-read-timeout", "0.5", "--ready-file", str(ready)]
    emulator = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and emulator.poll() is None and time.monotonic() < deadline:
            threading.Event().wait(0.05)  # the CLI writes the file once it listens: nothing to wait on
        assert ready.exists(), (
            emulator.communicate(timeout=30)[0] if emulator.poll() is not None else "no ready file"
        )
        port = urlsplit(json.loads(ready.read_text())["workspace_url"]).port
        with socket.create_connection(("127.0.0.1", port), timeout=30) as silent:
            silent.sendall(HEADERS)
            response = _read_until_closed(silent)
        assert response.startswith(b"HTTP/1.1 408 ") and b"within 0.5 s" in response
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
