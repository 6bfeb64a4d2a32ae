"""The stream failing under the command: retryable failures recover; a fatal one says what landed (exit 1)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

import grpc

from tests.ingest.conftest import INGEST, Ingest, server_env
from zerobus.ingest import ExitCode


def write_rows(path: Path, count: int) -> None:
    path.write_text("id,name\n" + "".join(f"{i},row {i}\n" for i in range(count)))


def test_a_dropped_call_recovers_and_every_row_lands(ingest: Ingest, zerobus_table, tmp_path: Path) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    source = tmp_path / "rows.csv"
    write_rows(source, 5000)
    ingest.server.faults.end_call_after(1000, code=grpc.StatusCode.UNAVAILABLE)
    result = ingest(str(source), "--table", table, "--batch-rows", "100")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "5,000 rows landed" in result.stdout
    assert {row["id"] for row in ingest.server.rows(table)} == set(range(5000))


def ingest_until_refused(
    ingest: Ingest, table: str, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Feed rows through a FIFO; once the server holds 1000 of them, it refuses the next request.

    More rows are written only after that point, so a request after the first 1000 records
    exists whatever the SDK's wire batching merged before.
    """
    server = ingest.server
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    stored_before = server.stats.records_stored
    server.faults.fail_after(1000, code=grpc.StatusCode.INVALID_ARGUMENT, message="injected refusal")
    process = subprocess.Popen(
        [INGEST, str(fifo), "--table", table, *args],
        env=server_env(server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with contextlib.suppress(BrokenPipeError), fifo.open("w") as writer:
            writer.write("id,name\n" + "".join(f"{i},row {i}\n" for i in range(2000)))
            writer.flush()
            deadline = time.monotonic() + 60
            while server.stats.records_stored < stored_before + 1000:
                assert time.monotonic() < deadline, "the first rows never reached the server"
                time.sleep(0.05)
            writer.write("".join(f"{i},row {i}\n" for i in range(2000, 4000)))
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_a_fatal_stream_failure_reports_the_rows_that_landed(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    result = ingest_until_refused(ingest, table, tmp_path)
    assert result.returncode == ExitCode.FAILED, result.stdout + result.stderr
    assert "INVALID_ARGUMENT" in result.stderr and "injected refusal" in result.stderr
    assert "Traceback" not in result.stderr
    landed = re.search(r"([0-9,]+) rows? landed", result.stdout)
    assert landed is not None, result.stdout
    reported = int(landed.group(1).replace(",", ""))
    stored = {row["id"] for row in ingest.server.rows(table)}
    # Every acknowledged row is in the table; the refused request and what followed it are not.
    assert 1000 <= reported <= len(stored) < 4000
    assert stored == set(range(len(stored)))


def test_a_stream_failure_never_sends_rows_to_the_dead_letter_file(
    ingest: Ingest, zerobus_table, tmp_path: Path
) -> None:
    """Rows refused because the stream failed are not the rows' fault: no dead letters, exit 1."""
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    letters = tmp_path / "refused.jsonl"
    result = ingest_until_refused(
        ingest, table, tmp_path, "--batch-rows", "50", "--dead-letter", str(letters)
    )
    assert result.returncode == ExitCode.FAILED, result.stdout + result.stderr
    assert letters.read_text() == ""


def test_rows_offered_to_a_failed_stream_raise_its_failure_and_are_not_dead_lettered(
    zerobus_server, zerobus_table, tmp_path: Path
) -> None:
    from zerobus.errors import NonRetriableException
    from zerobus.ingest.batch import RowBatch
    from zerobus.ingest.dead_letters import DeadLetterFile
    from zerobus.ingest.feed import Feeder
    from zerobus.ingest.report import FileReport
    from zerobus.sdk.sync import TableProperties, ZerobusSdk

    table = zerobus_table("id BIGINT NOT NULL")
    zerobus_server.faults.fail_after(0, code=grpc.StatusCode.INVALID_ARGUMENT, message="injected refusal")
    letters = DeadLetterFile(tmp_path / "refused.jsonl")
    with ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url) as sdk:
        stream = sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(table)
        )
        stream.ingest_record_offset({"id": 0})
        with contextlib.suppress(NonRetriableException):
            stream.flush()  # the stream has failed for good now
        batch = RowBatch()
        batch.records.extend([{"id": 1}, {"id": 2}])
        batch.numbers.extend([2, 3])
        batch.raws.extend(["1", "2"])
        report = FileReport("rows.jsonl", "jsonl", "line")
        try:
            Feeder(stream, letters).feed(report, batch.take())
            raise AssertionError("feeding a failed stream did not raise")
        except NonRetriableException as error:
            assert "injected refusal" in str(error)
        finally:
            letters.close()
            with contextlib.suppress(NonRetriableException):
                stream.close()
    assert report.refused == 0 and report.sent == 0
    assert (tmp_path / "refused.jsonl").read_text() == ""
