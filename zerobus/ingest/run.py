"""Internal: One run of `zerobus-ingest`: read the table's schema, open one stream, feed every file, land it all.

The order matters for the guarantees: the schema is read and the dead-letter file opened
before the stream exists (mistakes fail before any row is sent); rows are fed batch by batch
(`Feeder`); whatever stops the run early (Ctrl-C, a refused row without a dead-letter file, an
unreadable file) still lands the rows sent so far: the stream is always flushed and closed,
and only then is `landed` counted, from the acknowledgements.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zerobus.codegen import load_schema
from zerobus.errors import ZerobusException
from zerobus.ingest.batch import RowBatch
from zerobus.ingest.csv_reader import read_csv
from zerobus.ingest.dead_letters import DeadLetterFile
from zerobus.ingest.errors import InputFileError, StreamOpenError
from zerobus.ingest.feed import Feeder
from zerobus.ingest.formats import FileFormat, detect_format
from zerobus.ingest.interrupt import ReadInterrupted, StopRequest
from zerobus.ingest.jsonl_reader import read_jsonl
from zerobus.ingest.parquet_reader import parquet_row_count, read_parquet
from zerobus.ingest.progress import Progress
from zerobus.ingest.report import FileReport, RunReport
from zerobus.ingest.source import STDIN, WatchedReader, open_binary, text_stream
from zerobus.names import parse_table_name
from zerobus.schema.ir import TableSchema
from zerobus.schema.time_units import TimestampUnit

__all__ = ["IngestSettings", "Workspace", "ingest_files"]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 2_000


@dataclass(frozen=True)
class Workspace:
    """Where rows go: the Zerobus endpoint, the workspace (OAuth, Unity Catalog), credentials."""

    endpoint: str
    host: str
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class IngestSettings:
    table: str
    paths: tuple[str, ...]
    forced_format: FileFormat | None = None
    dead_letter: Path | None = None
    timestamp_unit: TimestampUnit | None = None
    delimiter: str | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    progress: bool = False


def ingest_files(
    settings: IngestSettings, workspace: Workspace, stop: StopRequest | None = None
) -> RunReport:
    """Ingest every file of `settings` into its table; the report says what landed and why it stopped.

    Raises before anything is sent (bad table name, credentials, unreachable server, missing
    table, unusable dead-letter path); after that, failures end up in `RunReport.failure`.
    """
    from zerobus.sdk.shared import StreamConfigurationOptions
    from zerobus.sdk.sync import TableProperties, ZerobusSdk

    parse_table_name(settings.table)
    schema = load_schema(
        settings.table,
        host=workspace.host,
        client_id=workspace.client_id,
        client_secret=workspace.client_secret,
    )
    stop = stop or StopRequest()
    report = RunReport(settings.table, settings.dead_letter)
    dead_letters = DeadLetterFile(settings.dead_letter) if settings.dead_letter is not None else None
    options = StreamConfigurationOptions(timestamp_unit=settings.timestamp_unit)
    try:
        with ZerobusSdk(workspace.endpoint, workspace.host) as sdk:
            try:
                stream = sdk.create_stream(
                    workspace.client_id,
                    workspace.client_secret,
                    TableProperties(settings.table, schema),
                    options,
                )
            except ZerobusException as error:
                raise StreamOpenError(workspace.endpoint, error) from error
            started = time.perf_counter()
            # Ctrl-C while the last rows are acknowledged only marks the run interrupted; a
            # second one abandons the wait (KeyboardInterrupt).
            with stop.installed():
                _feed_all(settings, schema, stream, Feeder(stream, dead_letters), report, stop)
                _land(stream, report)
            report.interrupted = stop.requested
            report.seconds = time.perf_counter() - started
    finally:
        if dead_letters is not None:
            dead_letters.close()
    return report


def _feed_all(
    settings: IngestSettings,
    schema: TableSchema,
    stream: Any,
    feeder: Feeder,
    report: RunReport,
    stop: StopRequest,
) -> None:
    progress = Progress(settings.progress)
    try:
        for path in settings.paths:
            if stop.requested:
                break
            _feed_file(settings, schema, path, feeder, report, stop, progress)
    except ZerobusException as error:
        report.failure = error
    finally:
        progress.finish()


def _feed_file(
    settings: IngestSettings,
    schema: TableSchema,
    path: str,
    feeder: Feeder,
    report: RunReport,
    stop: StopRequest,
    progress: Progress,
) -> None:
    batch = RowBatch()
    file_report = FileReport(path, "", "line")

    def land_pending() -> None:
        feeder.feed(file_report, batch.take())
        progress.advance(file_report.rows - shown[0])
        shown[0] = file_report.rows

    shown = [0]

    def land_before_waiting() -> None:
        if len(batch):
            land_pending()

    with _opened(path, stop, land_before_waiting) as (binary, raw):
        fmt = detect_format(path, lambda: binary.peek(4096)[:4096], settings.forced_format)
        file_report.format = fmt.value
        logger.info("reading %s as %s", path, fmt.value)
        if fmt is FileFormat.PARQUET:
            file_report.position_key = "row"
        report.files.append(file_report)
        rows = _reader(settings, schema, path, fmt, binary, batch)
        progress.start(Path(path).name, _estimate(path, fmt, raw))
        try:
            for _ in rows:
                land_pending()
                if stop.requested:
                    break
            else:
                file_report.read_to_end = True
        except ReadInterrupted:
            pass
        land_pending()


def _reader(
    settings: IngestSettings,
    schema: TableSchema,
    path: str,
    fmt: FileFormat,
    binary: io.BufferedReader,
    batch: RowBatch,
) -> Iterator[None]:
    if fmt is FileFormat.PARQUET:
        if path == STDIN or not Path(path).is_file():
            raise InputFileError(
                path, "Parquet is read from a file (it keeps its index at the end), not a pipe"
            )
        return read_parquet(path, schema, batch, settings.batch_rows, settings.timestamp_unit)
    text = text_stream(binary)
    if fmt is FileFormat.JSONL:
        return read_jsonl(path, text, schema, batch, settings.batch_rows)
    delimiter = settings.delimiter or ("\t" if path.lower().endswith(".tsv") else ",")
    return read_csv(path, text, schema, batch, settings.batch_rows, delimiter)


@contextlib.contextmanager
def _opened(
    path: str, stop: StopRequest, on_wait: Callable[[], None]
) -> Iterator[tuple[io.BufferedReader, WatchedReader]]:
    binary, raw = open_binary(path, stop, on_wait)
    try:
        yield binary, raw
    finally:
        binary.close()


def _estimate(path: str, fmt: FileFormat, raw: WatchedReader) -> Any:
    """The file's total rows for the progress bar, given the rows done so far (None: unknown)."""
    if fmt is FileFormat.PARQUET:
        total = parquet_row_count(path)
        return lambda done: total
    try:
        size = os.stat(path).st_size if path != STDIN else 0
    except OSError:
        size = 0
    if not size:
        return lambda done: None
    return lambda done: int(done * size / raw.bytes_read) if raw.bytes_read and done else None


def _land(stream: Any, report: RunReport) -> None:
    """Close the stream (which waits for every acknowledgement) and count what landed."""
    try:
        stream.close()
        report.landed = report.sent
    except ZerobusException as error:
        unacked = sum(1 for _ in stream.get_unacked_records())
        report.landed = report.sent - unacked
        if report.failure is None:
            report.failure = error
