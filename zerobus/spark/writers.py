"""Internal: The Spark writers: batch and streaming, fed Arrow batches when the installed pyspark can, else rows.

Each task writes its partition through its own stream (`zerobus.spark.partition`) and returns a
`ZerobusCommitMessage` with its counts; the driver's `commit` logs the totals. Zerobus has no
transactions: `abort` cannot take back rows that tasks already wrote, so it says how many.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import datasource as spark_datasource
from pyspark.sql.datasource import DataSourceStreamWriter, DataSourceWriter, WriterCommitMessage

from zerobus.schema.ir import TableSchema
from zerobus.spark.partition import current_task, write_partition
from zerobus.spark.records import Record, row_converter, rows_in_chunks
from zerobus.spark.settings import WriteSettings

__all__ = ["ZerobusBatchWriter", "ZerobusCommitMessage", "ZerobusStreamWriter"]

logger = logging.getLogger(__name__)

# Records per ingest submission of the row path (capped by the stream's in-flight window).
RECORDS_PER_SUBMISSION = 1000

# pyspark 4.0 has an Arrow batch writer; the Arrow streaming writer came in 4.1.
_ArrowWriter: Any = getattr(spark_datasource, "DataSourceArrowWriter", None)
_StreamArrowWriter: Any = getattr(spark_datasource, "DataSourceStreamArrowWriter", None)


@dataclass(frozen=True)
class ZerobusCommitMessage(WriterCommitMessage):
    """One task's outcome: `rows` records written and acknowledged on stream `stream_id`."""

    partition_id: int
    attempt: int
    rows: int
    stream_id: str | None


class _PartitionWriting:
    """What the batch and streaming writers share: settings, table schema, and one task's write."""

    def __init__(self, settings: WriteSettings, table_schema: TableSchema | None, spark_schema: Any) -> None:
        self.settings = settings
        self.table_schema = table_schema
        self.spark_schema = spark_schema

    def _chunk_size(self) -> int:
        return min(RECORDS_PER_SUBMISSION, self.settings.stream_options.max_inflight_records)

    def _arrow_chunks(self, batches: Iterable[Any]) -> Iterator[Any]:
        """The batches as they are: the stream converts them column by column (`ingest_arrow`)."""
        return (batch for batch in batches if batch.num_rows)

    def _row_chunks(self, rows: Iterable[Any]) -> Iterator[list[Record]]:
        return rows_in_chunks(rows, row_converter(self.spark_schema), self._chunk_size())

    def _write(self, chunks: Iterable[Any]) -> ZerobusCommitMessage:
        result = write_partition(self.settings, self.table_schema, chunks, current_task())
        return ZerobusCommitMessage(result.partition_id, result.attempt, result.rows, result.stream_id)

    def _log_commit(self, messages: Sequence[WriterCommitMessage | None], what: str) -> None:
        done = [m for m in messages if isinstance(m, ZerobusCommitMessage)]
        logger.info(
            "%s: %d rows written to %s by %d tasks",
            what,
            sum(m.rows for m in done),
            self.settings.table,
            len(done),
        )

    def _log_abort(self, messages: Sequence[WriterCommitMessage | None], what: str) -> None:
        done = [m for m in messages if isinstance(m, ZerobusCommitMessage)]
        logger.warning(
            "%s aborted: %d of %d tasks had already written %d rows to %s; they stay (Zerobus writes are "
            "not transactional), and rows of failed tasks may be there too",
            what,
            len(done),
            len(messages),
            sum(m.rows for m in done),
            self.settings.table,
        )


class ZerobusBatchWriter(_PartitionWriting, _ArrowWriter or DataSourceWriter):  # type: ignore[misc]
    """`df.write.format("zerobus")`: each task streams its partition and waits for every acknowledgment."""

    arrow = _ArrowWriter is not None

    def write(self, iterator: Iterator[Any]) -> ZerobusCommitMessage:
        chunks = self._arrow_chunks(iterator) if self.arrow else self._row_chunks(iterator)
        return self._write(chunks)

    def commit(self, messages: list[WriterCommitMessage | None]) -> None:
        self._log_commit(messages, "write")

    def abort(self, messages: list[WriterCommitMessage | None]) -> None:
        self._log_abort(messages, "write")


class ZerobusStreamWriter(_PartitionWriting, _StreamArrowWriter or DataSourceStreamWriter):  # type: ignore[misc]
    """`df.writeStream.format("zerobus")`: each micro-batch's tasks write as a batch write's do."""

    arrow = _StreamArrowWriter is not None

    def write(self, iterator: Iterator[Any]) -> ZerobusCommitMessage:
        chunks = self._arrow_chunks(iterator) if self.arrow else self._row_chunks(iterator)
        return self._write(chunks)

    def commit(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:  # noqa: N803
        self._log_commit(messages, f"micro-batch {batchId}")

    def abort(self, messages: list[WriterCommitMessage | None], batchId: int) -> None:  # noqa: N803
        self._log_abort(messages, f"micro-batch {batchId}")
