"""Internal: What the engine needs to know about one stream, from the already validated stream options."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EngineConfig"]


@dataclass(frozen=True)
class EngineConfig:
    """One stream's table, record type and limits, in seconds and records."""

    table_name: str
    record_type: int
    descriptor_proto: bytes | None = None
    max_inflight_records: int = 50_000
    recovery: bool = True
    recovery_timeout_s: float = 15.0
    recovery_backoff_s: float = 2.0
    recovery_retries: int = 3
    flush_timeout_s: float = 300.0
    lack_of_ack_timeout_s: float = 60.0
    stream_paused_max_wait_s: float | None = None
    # A batch only gets this big when the caller out-runs the sender. Larger requests mean fewer
    # of them, and each request costs grpc's Python threads a few GIL hand-offs while the
    # caller's thread holds the GIL; beyond this size the gain stopped.
    max_batch_records: int = 12_500
    # In len() units of the payloads: bytes for PROTO; characters for JSON, where the encoder
    # guarantees at most 4 bytes each, so 2 MiB of characters stays far below 10 MiB.
    max_batch_bytes: int = 2 * 1024 * 1024
