"""Internal: The doctor's transport checks: the endpoint listens, speaks TLS as configured, the workspace answers."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import requests

from zerobus.connection_hints import HTTP1, HTTP2, readable_detail, what_answers
from zerobus.doctor.results import CheckResult, failed, passed
from zerobus.endpoints import Endpoint

__all__ = ["check_reachable", "check_tls", "check_workspace", "speaks_tls"]

PROBE_TIMEOUT_S = 5.0
GRPC_ROOTS_VARIABLE = "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"


def check_reachable(endpoint: Endpoint) -> CheckResult:
    """A TCP connection to the Zerobus endpoint opens, and what answers there is no REST server
    (the workspace URL given as the endpoint accepts connections too)."""
    name = "endpoint reachable"
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as error:
        return failed(
            name,
            f"cannot connect to {endpoint.target}: {error.strerror or error}",
            "start the server, or fix --endpoint / ZEROBUS_SERVER_ENDPOINT (host and port)",
        )
    # HTTP/1.1 only: any gRPC server (plaintext or TLS) would have answered HTTP/2.
    if what_answers(endpoint)[1] == HTTP1:
        return failed(
            name,
            f"{endpoint.target} answers HTTP/1.1, not gRPC: it is a workspace (REST) URL",
            "set --endpoint / ZEROBUS_SERVER_ENDPOINT to the Zerobus gRPC endpoint (the local "
            "server's gRPC port, or https://<workspace-id>.zerobus.<region>.cloud.databricks.com)",
        )
    return passed(name, f"{endpoint.target} accepts connections")


def speaks_tls(endpoint: Endpoint) -> bool:
    """Whether the server completes a TLS handshake (its certificate is not judged here)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((endpoint.host, endpoint.port), timeout=PROBE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=endpoint.host),
        ):
            return True
    except (ssl.SSLError, OSError):
        return False


def check_tls(endpoint: Endpoint, root_certificates: Path | None) -> CheckResult:
    """The server speaks what the client will speak, and over TLS its certificate is trusted."""
    name = "TLS as configured"
    server_tls = speaks_tls(endpoint)
    if endpoint.secure and not server_tls:
        return failed(
            name,
            f"the client is configured for TLS but {endpoint.target} speaks plaintext",
            f"use http://{endpoint.target} (or --plaintext) for a plaintext server, or start the server with TLS",
        )
    if not endpoint.secure and server_tls:
        return failed(
            name,
            f"the client is configured for plaintext but {endpoint.target} speaks TLS",
            f"use https://{endpoint.target} (or --tls) and trust the server's CA with --root-certificates",
        )
    if not server_tls:
        return passed(name, "plaintext on both sides (allowed for loopback servers only)")
    problem = _untrusted(endpoint, root_certificates)
    if problem is not None:
        return failed(
            name,
            f"the server's certificate is not trusted: {problem}",
            "pass --root-certificates CA.pem (the CA that signed the server's certificate)",
        )
    return passed(name, "TLS, the server's certificate is trusted")


def _untrusted(endpoint: Endpoint, root_certificates: Path | None) -> str | None:
    """Why the server's certificate fails verification, or None when it passes.

    Without `root_certificates`, the CA file grpc itself would trust (its environment variable),
    else the system's.
    """
    cafile = str(root_certificates) if root_certificates else os.environ.get(GRPC_ROOTS_VARIABLE) or None
    context = ssl.create_default_context(cafile=cafile)
    try:
        with (
            socket.create_connection((endpoint.host, endpoint.port), timeout=PROBE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=endpoint.host),
        ):
            return None
    except ssl.SSLError as error:
        return str(error.reason or error)
    except OSError as error:
        return str(error.strerror or error)


def check_workspace(workspace: Endpoint, session: requests.Session) -> CheckResult:
    """The workspace URL answers HTTP (any status: it is the OAuth and Unity Catalog server)."""
    name = "workspace URL answers"
    try:
        response = session.get(workspace.url + "/", timeout=PROBE_TIMEOUT_S, allow_redirects=False)
    except requests.exceptions.SSLError as error:
        return failed(
            name,
            f"TLS to {workspace.url} failed: {_first_line(error)}",
            "use http:// for a plaintext workspace, or trust its CA with --root-certificates",
        )
    except requests.RequestException as error:
        # Failed, so an HTTP/2 answer there is a gRPC server's, not a workspace's.
        if what_answers(workspace)[1] == HTTP2:
            return failed(
                name,
                f"{workspace.target} speaks HTTP/2 (gRPC), not the REST API: it is the Zerobus endpoint",
                "set --workspace-url / DATABRICKS_HOST to the workspace URL (the local server's "
                "HTTP port, or https://<instance>.cloud.databricks.com)",
            )
        return failed(
            name,
            f"{workspace.url} does not answer: {_first_line(error)}",
            "fix --workspace-url / DATABRICKS_HOST (scheme, host and port of the workspace)",
        )
    return passed(name, f"{workspace.url} answers (HTTP {response.status_code})")


def _first_line(error: BaseException) -> str:
    text = readable_detail(str(error))
    return text.splitlines()[0] if text else type(error).__name__
