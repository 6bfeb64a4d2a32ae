"""Internal: Settings of the local server, validated once at construction.

Constants here are the emulator's fixed facts: the well-known development principal (it has
every privilege, so a fresh server works with no setup) and the service limits the real
Zerobus service enforces (docs/PROTOCOL.md section 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from zerobus.errors import ConfigurationError
from zerobus.names import parse_table_name
from zerobus.protocol.constants import MAX_REQUEST_BYTES
from zerobus.schema.parse import schema_from_ddl
from zerobus.server.frontends.http_timeouts import DEFAULT_HTTP_READ_TIMEOUT_S
from zerobus.server.rate_limit import StreamRateLimit
from zerobus.server.storage.materialize_schedule import DEFAULT_MAX_LAG_S

__all__ = [
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "WORKSPACE_ID",
    "ServerConfig",
]

DEV_CLIENT_ID = "zerobus-dev-client"
DEV_CLIENT_SECRET = "zerobus-dev-secret"
# The first DNS label of a real Zerobus host; tokens are scoped to this workspace id.
WORKSPACE_ID = "1234567890123456"


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Everything `LocalZerobusServer` is started with (see its docstring for each field)."""

    data_dir: Path | None = None
    host: str = "127.0.0.1"
    grpc_port: int = 0
    http_port: int = 0
    materialize_delay_s: float = 2.0
    # How long a timed materialisation pass may wait for records still arriving (materialize_schedule).
    materialize_max_lag_s: float = DEFAULT_MAX_LAG_S
    max_stream_duration_s: float | None = None
    # How long before the end of a stream's lifetime the CloseStreamSignal is sent.
    close_signal_lead_s: float = 5.0
    token_lifetime_s: float = 3600.0
    max_request_bytes: int = MAX_REQUEST_BYTES
    # An HTTP connection idle this long, or a request body not complete this long after it
    # started, is dropped (so a client that never sends its body cannot hold a thread).
    http_read_timeout_s: float = DEFAULT_HTTP_READ_TIMEOUT_S
    tables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Serve gRPC and HTTP over TLS with a CA and certificate from `tls_dir` (generated when absent;
    # None: `<data dir>/tls`).
    tls: bool = False
    tls_dir: Path | None = None
    # Every stream's acknowledgements are paced to these limits (None: unlimited; see rate_limit).
    stream_rate_limit: StreamRateLimit | None = None

    def __post_init__(self) -> None:
        for name in ("grpc_port", "http_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ConfigurationError(f"{name} must be 0..65535, got {port}")
        if self.materialize_delay_s < 0:
            raise ConfigurationError(f"materialize_delay_s must be >= 0, got {self.materialize_delay_s}")
        if not 0 <= self.materialize_max_lag_s < math.inf:  # also refuses NaN
            raise ConfigurationError(
                f"materialize_max_lag_s must be a finite number >= 0, got {self.materialize_max_lag_s}"
            )
        if self.max_stream_duration_s is not None and self.max_stream_duration_s <= 0:
            raise ConfigurationError(
                f"max_stream_duration_s must be > 0 or None, got {self.max_stream_duration_s}"
            )
        if self.token_lifetime_s <= 0:
            raise ConfigurationError(f"token_lifetime_s must be > 0, got {self.token_lifetime_s}")
        if not self.http_read_timeout_s > 0:  # also refuses NaN
            raise ConfigurationError(f"http_read_timeout_s must be > 0, got {self.http_read_timeout_s}")
        if self.data_dir is not None:
            object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.tls_dir is not None:
            if not self.tls:
                raise ConfigurationError(f"tls_dir={str(self.tls_dir)!r} is given but tls is False")
            object.__setattr__(self, "tls_dir", Path(self.tls_dir))
        for full_name, columns in self.tables.items():
            # Refused here, before the server opens its data directory or a port.
            name = parse_table_name(full_name).full_name
            if not isinstance(columns, str):
                raise ConfigurationError(
                    f"tables[{full_name!r}] must be a column DDL string, got {type(columns).__name__}"
                )
            schema_from_ddl(columns, name)
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
