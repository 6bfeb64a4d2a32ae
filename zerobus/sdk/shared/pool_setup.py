"""Internal: What a stream pool is opened with, checked before any stream opens; and what it reports back.

`create_stream_pool`'s layout (`pool_layout`: how many streams, growth or not), the growth
policy (`PoolGrowth`), the offsets a pool hands out (`PoolOffset`), and how a pool reports the
failures of several streams at once (`raise_first`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zerobus.errors import ConfigurationError
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.options import StreamConfigurationOptions
from zerobus.sdk.shared.pool_keys import KeySpec, key_reader
from zerobus.sdk.shared.table_properties import TableProperties

__all__ = [
    "PoolGrowth",
    "PoolOffset",
    "StreamArguments",
    "check_pool_offset",
    "pool_layout",
    "raise_first",
]

logger = logging.getLogger(__name__)

# `create_stream`'s arguments, normalised: (table, options, headers provider, credentials).
StreamArguments = tuple[
    TableProperties, StreamConfigurationOptions, HeadersProvider | None, tuple[str, str] | None
]


# Where a pool put a submission: (its stream's index in the pool, that stream's offset).
PoolOffset = tuple[int, int]


@dataclass(frozen=True, kw_only=True)
class PoolGrowth:
    """When a pool opened with ``streams="auto"`` opens one more stream.

    - `max_streams`: the most streams the pool opens.
    - `stream_records_per_s`: the rate the service holds one stream to (15,000 records/s).
    - `at_limit`: a stream acknowledged at this fraction of that rate or more counts as at the limit.
    - `window_s`, `windows`: rates are measured per window; this many windows in a row at the
      limit (with the in-flight windows at least half full) open a stream.
    """

    max_streams: int = 8
    stream_records_per_s: float = 15_000.0
    at_limit: float = 0.8
    window_s: float = 1.0
    windows: int = 2

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_streams, bool)
            or not isinstance(self.max_streams, int)
            or self.max_streams < 1
        ):
            raise ConfigurationError(
                f"PoolGrowth.max_streams must be an integer >= 1, got {self.max_streams!r}"
            )
        if isinstance(self.windows, bool) or not isinstance(self.windows, int) or self.windows < 1:
            raise ConfigurationError(f"PoolGrowth.windows must be an integer >= 1, got {self.windows!r}")
        for name in ("stream_records_per_s", "window_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ConfigurationError(f"PoolGrowth.{name} must be a number > 0, got {value!r}")
        if (
            isinstance(self.at_limit, bool)
            or not isinstance(self.at_limit, (int, float))
            or not 0 < self.at_limit <= 1
        ):
            raise ConfigurationError(f"PoolGrowth.at_limit must be in (0, 1], got {self.at_limit!r}")


def pool_layout(
    streams: Any, key: KeySpec | None, growth: PoolGrowth | None
) -> tuple[int, PoolGrowth | None]:
    """(streams to open at once, the growth policy or None), from `create_stream_pool`'s arguments."""
    if key is not None:
        key_reader(key)  # a bad key is refused before any stream is opened
    if streams == "auto":
        if key is not None:
            raise ConfigurationError(
                "streams='auto' cannot be combined with key=: moving a key to a new stream could let its "
                "later records overtake earlier ones; give a fixed number of streams"
            )
        return 1, growth or PoolGrowth()
    if isinstance(streams, bool) or not isinstance(streams, int) or streams < 1:
        raise ConfigurationError(f"streams must be an integer >= 1 or 'auto', got {streams!r}")
    if growth is not None:
        raise ConfigurationError("growth= applies only to streams='auto'")
    return streams, None


def check_pool_offset(offset: Any, streams: int) -> PoolOffset:
    """`offset` as a `PoolOffset` of a pool of `streams` streams, or a ValueError saying what is wrong."""
    if not isinstance(offset, tuple) or len(offset) != 2:
        raise ValueError(
            f"a pool offset is a (stream, offset) pair from the pool's ingest calls, got {offset!r}"
        )
    stream, inner = offset
    if isinstance(stream, bool) or not isinstance(stream, int) or not 0 <= stream < streams:
        raise ValueError(f"pool offset {offset!r}: stream must be an index in [0, {streams}), got {stream!r}")
    return stream, inner


def raise_first(errors: Sequence[tuple[int, BaseException]], what: str) -> None:
    """Raise the first stream's error of `errors` (the others are logged): after every stream was tried."""
    if not errors:
        return
    for index, error in errors[1:]:
        logger.error("stream pool: %s of stream %d failed too: %s", what, index, error)
    index, first = errors[0]
    logger.warning(
        "stream pool: %s of stream %d failed (%d stream(s) failed): %s", what, index, len(errors), first
    )
    # Which stream it was, for callers that handle a pool's failures stream by stream.
    setattr(first, "pool_stream", index)  # noqa: B010
    raise first
