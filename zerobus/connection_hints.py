"""Internal: What a failed connection most likely means, and how to fix it: decided here, for gRPC and HTTP.

The errors grpc and requests report for the usual mistakes say little ("Socket closed",
"BadStatusLine('\\x00\\x00...')", "Expected SETTINGS frame") and some were retried as if the
network were at fault. When the text alone is ambiguous, one short probe of the same host and
port tells what answers there (TLS, plaintext HTTP/1.1, or HTTP/2 as a gRPC server speaks);
a mistake that is certain becomes a `NonRetriableException` with a one-sentence hint, at the
first attempt. Failures that may pass (nothing listening yet: a server restarting) keep their
retryable kind and gain the hint.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl

import grpc

from zerobus.endpoints import Endpoint
from zerobus.errors import NonRetriableException, ZerobusException, from_grpc_error, tls_failure

__all__ = ["explain_grpc_failure", "explain_http_failure", "readable_detail", "what_answers"]

PROBE_TIMEOUT_S = 1.0

# What `what_answers` can tell of the protocol inside the connection.
HTTP1 = "http/1.1"
HTTP2 = "http/2"

_REFUSED = ("connection refused", "errno 111", "[winerror 10061]")
_UNRESOLVED = (
    "domain name not found",
    "name or service not known",
    "nodename nor servname",
    "failed to resolve",
    "name resolution",
    "dns resolution failed",
    "errors resolving",
    "getaddrinfo failed",
)
_WRONG_PEER = (
    "socket closed",
    "expected settings frame",
    "connection reset",
    "connection aborted",
    "badstatusline",
    "remotedisconnected",
    "remote end closed",
    "unexpected_eof",
    "eof occurred",
    "wrong_version_number",
    "handshake",
    "record layer failure",
    "protocol error",
)


def explain_grpc_failure(rpc_error: BaseException, endpoint: Endpoint) -> ZerobusException:
    """A failed gRPC call to `endpoint` in our tree (`from_grpc_error`), the likely mistake named."""
    error = from_grpc_error(rpc_error, host=endpoint.host)
    code = rpc_error.code() if isinstance(rpc_error, grpc.RpcError) and hasattr(rpc_error, "code") else None
    if code != grpc.StatusCode.UNAVAILABLE:
        return error
    details = rpc_error.details() if hasattr(rpc_error, "details") else None
    hint, certain = _diagnose(details or "", endpoint, grpc_peer=True)
    if hint is None:
        return error
    if certain:  # said instead of a generic TLS or network explanation
        return NonRetriableException(
            f"stream failed with UNAVAILABLE: {details}{_HINT}{hint}", cause=rpc_error
        )
    return type(error)(f"{error.message}{_HINT}{hint}", cause=rpc_error)


# What http.client quotes of a reply that is not HTTP/1.1: bytes of another protocol (a gRPC
# server's SETTINGS frame), of no use to a reader.
_BAD_STATUS_LINE = re.compile(r"""BadStatusLine\((?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")\)""")


def readable_detail(text: str) -> str:
    """`text` without the raw bytes of a reply that was not HTTP/1.1."""
    return _BAD_STATUS_LINE.sub("BadStatusLine(a reply that is not HTTP/1.1)", text)


def explain_http_failure(what: str, endpoint: Endpoint, error: BaseException) -> ZerobusException:
    """A failed OAuth or Unity Catalog request to `endpoint` in our tree, the likely mistake named."""
    detail = readable_detail(str(error))
    hint, certain = _diagnose(detail, endpoint, grpc_peer=False)
    if hint is None:
        return tls_failure(what, detail, error) or ZerobusException(f"{what} failed: {detail}", cause=error)
    kind = NonRetriableException if certain else ZerobusException
    return kind(f"{what} failed: {detail}{_HINT}{hint}", cause=error)


_HINT = "; hint: "


def _diagnose(detail: str, endpoint: Endpoint, grpc_peer: bool) -> tuple[str | None, bool]:
    """(hint, certain) for the failure `detail` of a connection to `endpoint`."""
    lowered = detail.lower()
    where = f"{endpoint.host}:{endpoint.port}"
    if any(marker in lowered for marker in _REFUSED):
        role = "the Zerobus gRPC endpoint" if grpc_peer else "the workspace URL"
        return f"nothing is listening at {where}: check the port of {role} and that the server runs", False
    if any(marker in lowered for marker in _UNRESOLVED) and _unknown_host(endpoint.host):
        return f"the host {endpoint.host!r} does not exist (DNS has no such name): check its spelling", True
    if not any(marker in lowered for marker in _WRONG_PEER):
        return None, False
    tls, answer = what_answers(endpoint)
    assumed = "" if endpoint.scheme_given else " (no scheme was given, so https:// was assumed)"
    if endpoint.secure and not tls and answer is not None:
        return f"{where} is a plaintext server{assumed}: write http://{where}", True
    if not endpoint.secure and tls:
        return f"{where} expects TLS: write https://{where} (and trust its CA, root_certificates=...)", True
    if grpc_peer and answer == HTTP1:
        return (
            f"{where} answers HTTP/1.1, not gRPC: that is a workspace (Unity Catalog) URL; "
            "the Zerobus endpoint is the server's gRPC port",
            True,
        )
    if not grpc_peer and answer == HTTP2:
        return (
            f"{where} speaks HTTP/2 (gRPC), not the REST API: that is the Zerobus endpoint; "
            "the workspace URL is the server's HTTP port",
            True,
        )
    return None, False


def _unknown_host(host: str) -> bool:
    """Whether DNS answers that `host` does not exist (not merely that it could not be asked)."""
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        return error.errno == socket.EAI_NONAME
    except OSError:
        return False
    return False


def what_answers(endpoint: Endpoint) -> tuple[bool, str | None]:
    """(whether TLS answers, then HTTP1 / HTTP2 / None) at the endpoint's host and port."""
    address = (endpoint.host, endpoint.port)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only asking whether TLS answers, not trusting it
    context.set_alpn_protocols(["h2", "http/1.1"])
    try:
        with (
            socket.create_connection(address, timeout=PROBE_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=endpoint.host) as tls,
        ):
            protocol = tls.selected_alpn_protocol()
    except (OSError, ssl.SSLError):
        return False, _plaintext_answer(address)
    return True, {"h2": HTTP2, "http/1.1": HTTP1}.get(protocol or "")


def _plaintext_answer(address: tuple[str, int]) -> str | None:
    """HTTP1 if a plaintext request gets an HTTP/1.1 status line, HTTP2 if a SETTINGS frame comes first."""
    request = f"GET / HTTP/1.1\r\nHost: {address[0]}\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection(address, timeout=PROBE_TIMEOUT_S) as sock:
            with contextlib.suppress(OSError):
                sock.sendall(request)
            head = sock.recv(16)
    except OSError:
        return None
    if head.startswith(b"HTTP/1."):
        return HTTP1
    if len(head) >= 4 and head[3] == 0x04:  # an HTTP/2 frame header of type SETTINGS
        return HTTP2
    return None
