"""Internal: Custom root certificates: one CA file trusted by the gRPC channel and by the HTTPS calls.

By default the gRPC channel trusts grpc's roots (or ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``) and
the OAuth and Unity Catalog calls trust requests' (or ``REQUESTS_CA_BUNDLE``). A server with a
private CA, such as ``zerobus-emulator start --tls``, needs both to trust it; the SDK option
`root_certificates` does so in one place, and wins over those environment variables.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from zerobus.errors import ConfigurationError

__all__ = ["RootCertificates", "load_root_certificates", "trusting_session"]

_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class RootCertificates:
    """The CA file a client trusts (for requests) and its PEM bytes (for grpc)."""

    path: Path
    pem: bytes


def load_root_certificates(value: object) -> RootCertificates | None:
    """Check the `root_certificates` option (a PEM file path) before any network call."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise ConfigurationError(
            f"root_certificates must be the path of a PEM file of CA certificates, got {value!r}"
        )
    path = Path(value).expanduser().resolve()
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"root_certificates={str(value)!r}: cannot read the CA file: {error.strerror or error}"
        ) from error
    if _PEM_CERTIFICATE not in pem:
        raise ConfigurationError(
            f"root_certificates={str(value)!r}: the file holds no PEM certificate "
            f"(expected a '{_PEM_CERTIFICATE.decode()}' block)"
        )
    try:
        ssl.create_default_context(cadata=pem.decode("ascii"))
    except (ssl.SSLError, ValueError) as error:
        raise ConfigurationError(
            f"root_certificates={str(value)!r}: the PEM certificates cannot be loaded: {error}"
        ) from error
    return RootCertificates(path, pem)


class _TrustingAdapter(HTTPAdapter):
    """Verifies every HTTPS request against one CA file.

    A session's own `verify` loses to ``REQUESTS_CA_BUNDLE`` (requests merges the environment
    over it), so the CA is applied where the request is sent.
    """

    def __init__(self, ca_file: Path) -> None:
        super().__init__()
        self._ca_file = str(ca_file)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return super().send(request, stream, timeout, self._ca_file, cert, proxies)


def trusting_session(roots: RootCertificates | None) -> requests.Session | None:
    """A session that trusts `roots` for HTTPS; None (requests' defaults) without them."""
    if roots is None:
        return None
    session = requests.Session()
    session.mount("https://", _TrustingAdapter(roots.path))
    return session
