"""Ctrl-C: reading stops, the rows read so far land, and the command says how many (exit 130)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.ingest.conftest import INGEST, server_env
from zerobus.ingest import ExitCode
from zerobus.server import LocalZerobusServer


def wait_for_rows(server: LocalZerobusServer, table: str, count: int, timeout_s: float = 60.0) -> None:
    """Poll (bounded by a deadline) until the table holds `count` rows."""
    deadline = time.monotonic() + timeout_s
    while len(server.rows(table)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} rows landed in {timeout_s} s"


def test_ctrl_c_lands_what_was_read_and_says_how_many(
    zerobus_server: LocalZerobusServer, zerobus_table, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [INGEST, str(fifo), "--table", table],
        env=server_env(zerobus_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The writer keeps the FIFO open: the command has read these rows and waits for more.
        with fifo.open("w") as writer:
            writer.write("id,name\n" + "".join(f"{i},row {i}\n" for i in range(1, 1001)))
            writer.flush()
            wait_for_rows(zerobus_server, table, 1000)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "interrupted: stopped reading" in stdout and "after line 1001" in stdout
    assert "1,000 rows landed" in stdout
    assert "Traceback" not in stderr
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == list(range(1, 1001))


def test_ctrl_c_while_reading_a_regular_file(
    zerobus_server: LocalZerobusServer, zerobus_table, tmp_path: Path
) -> None:
    """Stopping between batches of a file that never waits: every row read lands, none twice."""
    table = zerobus_table("id BIGINT NOT NULL")
    source = tmp_path / "rows.jsonl"
    source.write_text("".join(f'{{"id": {i}}}\n' for i in range(1, 2_000_001)))
    process = subprocess.Popen(
        [INGEST, str(source), "--table", table, "--progress", "--batch-rows", "1000"],
        env=server_env(zerobus_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # The progress bar's first update (a percentage) means rows are flowing; stop then.
        seen = ""
        while "%|" not in seen and process.poll() is None:
            seen += process.stderr.read(1)
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, stdout
    landed = sorted(row["id"] for row in zerobus_server.rows(table))
    assert landed == list(range(1, len(landed) + 1))
    assert f"{len(landed):,} rows landed" in stdout
    assert 0 < len(landed) < 2_000_000


def test_ctrl_c_while_waiting_for_acknowledgements_keeps_waiting(
    zerobus_server: LocalZerobusServer, zerobus_table, tmp_path: Path
) -> None:
    """The first Ctrl-C during the final wait does not abandon it: every row sent still lands."""
    table = zerobus_table("id BIGINT NOT NULL")
    source = tmp_path / "rows.csv"
    source.write_text("id\n" + "".join(f"{i}\n" for i in range(500)))
    stored_before = zerobus_server.stats.records_stored
    zerobus_server.faults.withhold_acks()
    process = subprocess.Popen(
        [INGEST, str(source), "--table", table],
        env=server_env(zerobus_server),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while zerobus_server.stats.records_stored < stored_before + 500:
            assert time.monotonic() < deadline and process.poll() is None, "the rows never reached the server"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        assert process.stderr is not None
        assert (
            "stopping: landing the rows read so far" in process.stderr.readline() + process.stderr.readline()
        )
        zerobus_server.faults.release_acks()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        zerobus_server.faults.release_acks()
        if process.poll() is None:
            process.kill()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "500 rows landed" in stdout
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == list(range(500))
