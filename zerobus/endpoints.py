"""Internal: Endpoint rules of docs/PROTOCOL.md section 1, checked before any network call.

Table names are checked in `zerobus.names`; `TableName` and `parse_table_name` are re-exported here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from zerobus.errors import ConfigurationError
from zerobus.names import TableName, parse_table_name

__all__ = ["Endpoint", "TableName", "is_loopback_host", "parse_endpoint", "parse_table_name"]


@dataclass(frozen=True)
class Endpoint:
    """A normalised endpoint: `url` always has a scheme; `secure` is False for plaintext `http://`."""

    url: str
    host: str
    port: int
    secure: bool
    # False when the user wrote no scheme and https:// was assumed (error hints say so).
    scheme_given: bool = True

    @property
    def target(self) -> str:
        """`host:port` for a gRPC channel."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def workspace_id(self) -> str:
        """The first DNS label of the host (the Zerobus endpoint's workspace id)."""
        return self.host.split(".", 1)[0]

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def as_given(self) -> str:
        """The URL without its scheme when the user wrote none: parsed again downstream, it still
        means https://, and an error hint can still say the scheme was assumed."""
        return self.url if self.scheme_given else self.url.split("://", 1)[1]

    def with_tls(self, secure: bool) -> Endpoint:
        """The same host and port over TLS (`https://`) or plaintext (`http://`)."""
        scheme = "https" if secure else "http"
        return Endpoint(f"{scheme}://{self.url.split('://', 1)[1]}", self.host, self.port, secure, True)

    def require_safe_for_credentials(self) -> None:
        """Refuse to send credentials in clear text to anything but this machine."""
        if not self.secure and not self.is_loopback:
            raise ConfigurationError(
                f"refusing to send credentials over plaintext {self.url}: http:// is only allowed for loopback "
                "hosts (local servers); use https://"
            )


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_endpoint(value: object, what: str = "endpoint") -> Endpoint:
    """Normalise a user-given endpoint; a missing scheme means `https://`."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{what} must be a non-empty URL string, got {value!r}")
    text = value.strip().rstrip("/")
    scheme_given = "://" in text
    if not scheme_given:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ConfigurationError(f"{what} {value!r}: scheme must be https:// (or http:// for a local server)")
    if not parts.hostname:
        raise ConfigurationError(f"{what} {value!r} has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise ConfigurationError(f"{what} {value!r}: {error}") from None
    return Endpoint(
        url=f"{parts.scheme}://{parts.netloc}",
        host=parts.hostname,
        port=port,
        secure=parts.scheme == "https",
        scheme_given=scheme_given,
    )
