"""Internal: One task's partition through its own stream: the only module of the data source that talks to Zerobus.

The writers hand it chunks: pyarrow RecordBatches when the installed pyspark has an Arrow
writer (sent with `stream.ingest_arrow`: converted column by column, checked before any row is
queued), else lists of dict records (`ingest_records_offset`). A task succeeds only once every
record it sent is acknowledged (durable); otherwise it raises `PartitionWriteError` with the
reason and how many records are left unacknowledged.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zerobus.errors import ZerobusException
from zerobus.schema.ir import TableSchema
from zerobus.sdk.sync import TableProperties, ZerobusSdk, ZerobusStream
from zerobus.spark.settings import WriteSettings

__all__ = ["PartitionResult", "PartitionWriteError", "TaskInfo", "current_task", "write_partition"]

logger = logging.getLogger(__name__)

Record = dict[str, Any]
# A list of records, or a pyarrow RecordBatch.
Chunk = Any


@dataclass(frozen=True)
class TaskInfo:
    """Which Spark task is writing (-1 when not inside a task, e.g. in a unit test)."""

    partition_id: int = -1
    attempt: int = -1


def current_task() -> TaskInfo:
    from pyspark import TaskContext

    context = TaskContext.get()
    if context is None:
        return TaskInfo()
    return TaskInfo(context.partitionId(), context.attemptNumber())


@dataclass(frozen=True)
class PartitionResult:
    """What one task wrote: every one of `rows` is acknowledged."""

    partition_id: int
    attempt: int
    rows: int
    stream_id: str | None


class PartitionWriteError(ZerobusException):
    """A task could not write its whole partition; says why and how many records were not acknowledged."""

    def __init__(
        self,
        settings: WriteSettings,
        task: TaskInfo,
        rows_sent: int,
        unacknowledged: int,
        reason: BaseException,
    ) -> None:
        super().__init__(
            f"zerobus: partition {task.partition_id} (attempt {task.attempt}) of {settings.table} failed "
            f"after {rows_sent} rows were sent, {unacknowledged} of them left unacknowledged: "
            f"{type(reason).__name__}: {reason}",
            cause=reason,
        )
        self.rows_sent = rows_sent
        self.unacknowledged = unacknowledged


def write_partition(
    settings: WriteSettings, schema: TableSchema | None, chunks: Iterable[Chunk], task: TaskInfo
) -> PartitionResult:
    """Send every chunk of records through one new stream and wait until all are acknowledged.

    An empty partition opens no stream (Spark jobs often have many).
    """
    remaining = iter(chunks)
    try:
        first = next(remaining, None)
    except Exception as error:
        raise PartitionWriteError(settings, task, 0, 0, error) from error
    if first is None:
        return PartitionResult(task.partition_id, task.attempt, 0, None)
    return _stream_partition(settings, schema, itertools.chain([first], remaining), task)


def _stream_partition(
    settings: WriteSettings, schema: TableSchema | None, chunks: Iterable[Chunk], task: TaskInfo
) -> PartitionResult:
    sdk = ZerobusSdk(settings.endpoint, settings.workspace_url, root_certificates=settings.root_certificates)
    stream: ZerobusStream | None = None
    sent = 0
    try:
        stream = sdk.create_stream(
            settings.client_id,
            settings.client_secret,
            TableProperties(settings.table, schema),
            settings.stream_options,
        )
        for chunk in chunks:
            if isinstance(chunk, list):
                stream.ingest_records_offset(chunk)
                sent += len(chunk)
            else:  # an Arrow batch: all its rows are queued, or none
                stream.ingest_arrow(chunk)
                sent += chunk.num_rows
        stream.close()  # returns once every record sent is durable
        logger.info(
            "partition %d (attempt %d): %d rows acknowledged in %s",
            task.partition_id,
            task.attempt,
            sent,
            settings.table,
        )
        return PartitionResult(task.partition_id, task.attempt, sent, stream.stream_id)
    except Exception as error:
        unacknowledged = _settle(stream)
        raise PartitionWriteError(settings, task, sent, unacknowledged, error) from error
    finally:
        sdk.close()


def _settle(stream: ZerobusStream | None) -> int:
    """After a failure: let what was sent become durable if it still can, and count what did not."""
    if stream is None:
        return 0
    try:
        stream.close()
    except ZerobusException as error:
        logger.warning("closing the stream of a failed task failed too: %s", error)
    return sum(1 for _ in stream.get_unacked_records())
