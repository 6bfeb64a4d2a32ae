"""Internal: the records of `ingest_arrow`, cut into submissions a stream (or pool) can queue.

pyarrow and numpy are imported at the first call: importing the SDK loads neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zerobus.encoders import RecordEncoder
from zerobus.encoders.base import EncodedRecords
from zerobus.engine import MAX_REQUEST_BYTES
from zerobus.engine.config import EngineConfig
from zerobus.errors import ConfigurationError

if TYPE_CHECKING:
    from zerobus.encoders.arrow_records import ArrowRecordEncoder

__all__ = ["ArrowRows"]

# Room left under the request limit for the request's own fields and each record's tag and length.
_REQUEST_FRAMING = 64 * 1024


class ArrowRows:
    """One stream's conversion of Arrow data to its records (compiled at the first use)."""

    __slots__ = ("_config", "_encoder", "_rows")

    def __init__(self, encoder: RecordEncoder, config: EngineConfig) -> None:
        self._encoder = encoder
        self._config = config
        self._rows: ArrowRecordEncoder | None = None

    def submissions(self, data: object) -> list[EncodedRecords]:
        """Every row of `data` converted and checked before any is queued, cut into submissions
        that each fit one request and a quarter of the in-flight window."""
        if self._rows is None:
            try:
                from zerobus.encoders.arrow_records import ArrowRecordEncoder
            except ImportError as error:
                raise ConfigurationError(
                    f"ingest_arrow needs pyarrow and numpy ({error}): pip install 'zerobus-toolkit[arrow]'",
                    cause=error,
                ) from error
            self._rows = ArrowRecordEncoder(self._encoder)
        config = self._config
        max_records = max(1, min(config.max_batch_records, config.max_inflight_records // 4))
        request_bytes = MAX_REQUEST_BYTES - _REQUEST_FRAMING
        max_bytes = min(config.max_batch_bytes, request_bytes)
        return self._rows.submissions(data, max_records, max_bytes, request_bytes)
