"""Internal: TLS for the emulator: a local CA and a server certificate, and the server-side SSL contexts.

Every real workspace is `https://`; serving the emulator over TLS lets a client run the path its
users take (certificate checks, ALPN, the OAuth and Unity Catalog calls over HTTPS). The CA is
generated locally (with `trustme`) and is trusted by nobody until the user points a client at
its file: `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` (gRPC), `REQUESTS_CA_BUNDLE` (requests),
`SSL_CERT_FILE` (the official SDK's Rust core), or the SDK's `root_certificates` option.

A directory that already holds the three files is reused as it is, so clients that trust the CA
keep trusting it across restarts (and a user may bring their own CA and certificate).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.server.frontends.http_hangups import ClientHangupsLogged
from zerobus.server.storage.atomic_files import atomic_write, ensure_directory

__all__ = [
    "CA_FILE",
    "CERT_FILE",
    "KEY_FILE",
    "TlsFiles",
    "TlsHttpServer",
    "default_server_names",
    "ensure_tls_files",
    "grpc_server_context",
    "http_server_context",
    "trust_instructions",
]

logger = logging.getLogger(__name__)

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
# A client that connects but never finishes the handshake must not hold a worker forever.
HANDSHAKE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the CA clients must trust, the server's certificate chain and its private key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def default_server_names(host: str) -> list[str]:
    """Names the certificate is valid for: every loopback spelling, plus the host listened on."""
    names = ["localhost", "127.0.0.1", "::1"]
    if host and host not in ("0.0.0.0", "::") and host.strip("[]") not in names:
        names.append(host.strip("[]"))
    return names


def ensure_tls_files(directory: Path, server_names: Iterable[str]) -> TlsFiles:
    """Reuse the CA and certificate in `directory`, or generate them there when it has none."""
    ensure_directory(directory)
    files = TlsFiles(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    present = [path for path in (files.ca_file, files.cert_file, files.key_file) if path.exists()]
    if len(present) == 3:
        logger.info("TLS: reusing the CA and certificate in %s", directory)
        return files
    if present:
        missing = sorted({CA_FILE, CERT_FILE, KEY_FILE} - {path.name for path in present})
        raise ConfigurationError(
            f"tls_dir {str(directory)!r} holds {', '.join(p.name for p in present)} but not "
            f"{', '.join(missing)}: give a directory with all three files, or an empty one"
        )
    _generate(files, list(server_names))
    logger.info("TLS: generated a local CA and a server certificate in %s", directory)
    return files


def _generate(files: TlsFiles, server_names: list[str]) -> None:
    import trustme

    for name in server_names:
        _check_server_name(name)
    ca = trustme.CA(organization_name="Zerobus local emulator")
    leaf = ca.issue_cert(*server_names, common_name=server_names[0])
    # Key first, readable by the owner only from its first byte; the CA last, so a directory
    # holding all three files (what `ensure_tls_files` reuses) holds complete ones.
    atomic_write(files.key_file, leaf.private_key_pem.bytes(), mode=0o600)
    atomic_write(files.cert_file, b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    atomic_write(files.ca_file, ca.cert_pem.bytes())


def _check_server_name(name: str) -> None:
    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    labels = name.split(".")
    if not name or not all(label and len(label) <= 63 for label in labels):
        raise ConfigurationError(f"TLS server name {name!r} is neither an IP address nor a DNS name")


def _server_context(files: TlsFiles, alpn: list[str]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert_file, files.key_file)
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"cannot load the TLS certificate {files.cert_file} with key {files.key_file}: {error}"
        ) from error
    context.set_alpn_protocols(alpn)
    return context


def grpc_server_context(files: TlsFiles) -> ssl.SSLContext:
    """gRPC is HTTP/2 only: clients (grpc core, tonic) insist on ALPN "h2"."""
    return _server_context(files, ["h2"])


def http_server_context(files: TlsFiles) -> ssl.SSLContext:
    return _server_context(files, ["http/1.1"])


class TlsHttpServer(ClientHangupsLogged, ThreadingHTTPServer):
    """A threading HTTP server whose connections are TLS.

    The handshake runs in the connection's worker thread (not in the accept loop), bounded by
    `HANDSHAKE_TIMEOUT_S`, so one silent client cannot stall every other connection.
    """

    def __init__(
        self,
        address: tuple[str, int],
        handler: Any,
        ssl_context: ssl.SSLContext,
        on_handshake_failure: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(address, handler)
        self.ssl_context = ssl_context
        self.on_handshake_failure = on_handshake_failure

    def finish_request(self, request: Any, client_address: Any) -> None:
        connection: socket.socket = request
        previous = connection.gettimeout()
        connection.settimeout(HANDSHAKE_TIMEOUT_S)
        try:
            secured = self.ssl_context.wrap_socket(connection, server_side=True)
        except (OSError, ssl.SSLError) as error:
            # Typically a client that does not trust the CA: it aborts the handshake.
            logger.info("TLS handshake with %s failed: %s", client_address, error)
            self.on_handshake_failure()
            return
        secured.settimeout(previous)
        try:
            super().finish_request(secured, client_address)
        finally:
            # The base class closes the plain socket it accepted, which the wrapper has taken over.
            self.shutdown_request(secured)


def trust_instructions(ca_file: Path) -> list[str]:
    """How to make each kind of client trust `ca_file` (the CLI banner prints these)."""
    return [
        f"  export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH={ca_file}   # grpcio (this SDK's gRPC channel)",
        f"  export REQUESTS_CA_BUNDLE={ca_file}   # requests (OAuth and Unity Catalog calls)",
        f"  export SSL_CERT_FILE={ca_file}   # the official Databricks SDK (Rust core)",
        f"  or in Python: ZerobusSdk(endpoint, workspace_url, root_certificates={str(ca_file)!r})",
    ]
