"""Internal: What the Arrow entry points accept, as one `pyarrow.Table` (no copy for Arrow data).

`stream.ingest_arrow` (record streams) and `ZerobusArrowStream.ingest_batch` (Flight streams)
take the same things: a Table, a RecordBatch, anything exporting the Arrow PyCapsule interface
(polars, pandas >= 2.2), or an older pandas DataFrame (converted without its index).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from zerobus.errors import InvalidRecordError

__all__ = ["as_arrow_table"]


def as_arrow_table(data: Any, method: str) -> pa.Table:
    """`data` as a Table, or `InvalidRecordError` naming `method` and what it takes."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    if hasattr(data, "__arrow_c_array__"):
        return pa.Table.from_batches([pa.record_batch(data)])
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    raise InvalidRecordError(
        "",
        type(data).__name__,
        f"{method} takes a pyarrow Table or RecordBatch, or a DataFrame exporting the Arrow "
        f"PyCapsule interface (__arrow_c_stream__: pandas, polars), got {type(data).__name__}",
    )
