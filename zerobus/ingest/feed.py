"""Internal: Rows into the stream: batches through the batch API, and the rows a batch cannot take, one by one.

`ingest_records_offset` is all-or-nothing and checks every record before anything is queued,
so a batch holding one bad row is refused whole and nothing of it was sent. Such a batch is fed
again row by row: the good rows land, each bad one goes to the dead-letter file with its reason
(or, without one, stops the run right there, after the rows before it). A refusal counts as
the row's fault only when `_about_the_records` says so; a stream that failed raises its failure.
"""

from __future__ import annotations

import bisect
from typing import Any

from zerobus.errors import InvalidRecordError, NonRetriableException
from zerobus.ingest.batch import RefusedRow, TakenRows
from zerobus.ingest.dead_letters import DeadLetterFile
from zerobus.ingest.errors import RowRefusedError
from zerobus.ingest.report import FileReport
from zerobus.sdk.shared import StreamState

__all__ = ["Feeder"]

_BROKEN = (StreamState.FAILED, StreamState.CLOSED)


def _about_the_records(error: NonRetriableException, stream: Any) -> bool:
    """Whether an ingest call was refused for what it carried, not because the stream is done.

    A record that does not fit raises `InvalidRecordError`; a submission above the request size
    limit raises before anything is queued, with no cause, on a stream that still accepts
    records. A stream that failed or closed refuses with its failure as the cause.
    """
    if isinstance(error, InvalidRecordError):
        return True
    return error.cause is None and stream.get_state() not in _BROKEN


class Feeder:
    """Feeds taken rows of one run into `stream`, counting them on each file's report."""

    def __init__(self, stream: Any, dead_letters: DeadLetterFile | None) -> None:
        self._stream = stream
        self._dead_letters = dead_letters

    def feed(self, report: FileReport, rows: TakenRows) -> None:
        if not len(rows):
            return
        refused = rows.refused
        if refused and self._dead_letters is None:
            first = min(refused, key=lambda row: row.number)
            cut = bisect.bisect_left(rows.numbers, first.number)
            self._send(report, rows, 0, cut)
            self._refuse(report, first)
        for row in refused:
            self._refuse(report, row)
        self._send(report, rows, 0, len(rows.records))
        positions = [*rows.numbers[-1:], *(row.number for row in refused)]
        report.last_position = max(report.last_position, *positions)
        if self._dead_letters is not None:
            self._dead_letters.flush()

    def _send(self, report: FileReport, rows: TakenRows, start: int, stop: int) -> None:
        if start >= stop:
            return
        records = rows.records if (start, stop) == (0, len(rows.records)) else rows.records[start:stop]
        stream = self._stream
        try:
            stream.ingest_records_offset(records)
            report.sent += stop - start
            return
        except NonRetriableException as error:
            if not _about_the_records(error, stream):
                raise
        for index in range(start, stop):
            try:
                stream.ingest_record_offset(rows.records[index])
            except NonRetriableException as error:
                if not _about_the_records(error, stream):
                    raise
                field = getattr(error, "field", None)
                self._refuse(report, RefusedRow(rows.numbers[index], rows.raw(index), str(error), field))
                continue
            report.sent += 1

    def _refuse(self, report: FileReport, row: RefusedRow) -> None:
        if self._dead_letters is None:
            report.last_position = row.number - 1
            raise RowRefusedError(report.path, f"{report.position_key} {row.number}", row.reason)
        self._dead_letters.write(report.path, report.position_key, row)
        report.refused += 1
