"""Arrow Flight streams' options (the official `zerobus.sdk.shared.arrow` names).

Importing this module does not import pyarrow: the top-level package re-exports these names,
and pyarrow is an optional extra (`pip install zerobus-toolkit[arrow]`), needed only once an
Arrow stream is created.
"""

from __future__ import annotations

import enum
from typing import Any

from zerobus.errors import ConfigurationError, UnknownOptionError
from zerobus.sdk.shared.option_rules import refuse_unknown_keywords

__all__ = ["ArrowStreamConfigurationOptions", "IPCCompression"]


class IPCCompression(enum.IntEnum):
    """Arrow IPC body compression of the batches sent (the server decompresses them)."""

    NONE = 0
    LZ4_FRAME = 1
    ZSTD = 2

    @property
    def codec(self) -> str | None:
        """pyarrow's name of the codec (`pyarrow.ipc.IpcWriteOptions(compression=...)`)."""
        return {IPCCompression.NONE: None, IPCCompression.LZ4_FRAME: "lz4", IPCCompression.ZSTD: "zstd"}[self]


_DEFAULTS: dict[str, Any] = {
    "max_inflight_batches": 1000,
    "recovery": True,
    "recovery_timeout_ms": 15_000,
    "recovery_backoff_ms": 2_000,
    "recovery_retries": 4,
    "server_lack_of_ack_timeout_ms": 60_000,
    "flush_timeout_ms": 300_000,
    "connection_timeout_ms": 30_000,
    "ipc_compression": IPCCompression.NONE,
    "stream_paused_max_wait_time_ms": None,
}

# Options that must be at least 1 (the others may be 0).
_POSITIVE = {
    "max_inflight_batches",
    "connection_timeout_ms",
    "flush_timeout_ms",
    "server_lack_of_ack_timeout_ms",
}


@refuse_unknown_keywords
class ArrowStreamConfigurationOptions:
    """How an Arrow Flight stream behaves; the official defaults (docs/PROTOCOL.md section 9).

    Values are checked when set, so a mistake names the option here rather than failing later.

    `stream_paused_max_wait_time_ms` is accepted (and checked) for code written for the official
    SDK, and has no effect. There it caps how long the client keeps waiting for acks on a call
    the server is gracefully rotating; a Flight `DoPut` call has no close signal that would open
    such a period (the server simply ends the call), so there is nothing to wait for: the stream
    recovers at once on a new call and resends every unacknowledged batch first.
    """

    max_inflight_batches: int
    recovery: bool
    recovery_timeout_ms: int
    recovery_backoff_ms: int
    recovery_retries: int
    server_lack_of_ack_timeout_ms: int
    flush_timeout_ms: int
    connection_timeout_ms: int
    ipc_compression: IPCCompression
    stream_paused_max_wait_time_ms: int | None

    def __init__(
        self,
        *,
        max_inflight_batches: int = 1000,
        recovery: bool = True,
        recovery_timeout_ms: int = 15000,
        recovery_backoff_ms: int = 2000,
        recovery_retries: int = 4,
        server_lack_of_ack_timeout_ms: int = 60000,
        flush_timeout_ms: int = 300000,
        connection_timeout_ms: int = 30000,
        ipc_compression: IPCCompression = IPCCompression.NONE,
        stream_paused_max_wait_time_ms: int | None = None,
    ) -> None:
        self.max_inflight_batches = max_inflight_batches
        self.recovery = recovery
        self.recovery_timeout_ms = recovery_timeout_ms
        self.recovery_backoff_ms = recovery_backoff_ms
        self.recovery_retries = recovery_retries
        self.server_lack_of_ack_timeout_ms = server_lack_of_ack_timeout_ms
        self.flush_timeout_ms = flush_timeout_ms
        self.connection_timeout_ms = connection_timeout_ms
        self.ipc_compression = ipc_compression
        self.stream_paused_max_wait_time_ms = stream_paused_max_wait_time_ms

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _DEFAULTS:
            raise UnknownOptionError(type(self).__name__, name, _DEFAULTS)
        super().__setattr__(name, _checked(name, value))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in _DEFAULTS)
        return f"ArrowStreamConfigurationOptions({values})"


def _checked(name: str, value: Any) -> Any:
    if name == "recovery":
        if not isinstance(value, bool):
            raise ConfigurationError(
                f"ArrowStreamConfigurationOptions.recovery must be True or False, got {value!r}"
            )
        return value
    if name == "ipc_compression":
        if value is None:
            return IPCCompression.NONE
        if not isinstance(value, IPCCompression):
            raise ConfigurationError(
                f"ArrowStreamConfigurationOptions.ipc_compression must be an IPCCompression "
                f"(NONE, LZ4_FRAME, ZSTD), got {value!r}"
            )
        return value
    if name == "stream_paused_max_wait_time_ms" and value is None:
        return None
    least = 1 if name in _POSITIVE else 0
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigurationError(
            f"ArrowStreamConfigurationOptions.{name} must be an integer >= {least}, got {value!r}"
        )
    return value
