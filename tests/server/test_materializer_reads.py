"""The materializer reads each log frame once: a cycle reads the new frames, not the segment again.

Where to resume stays the Delta table's application transaction (the last materialised seq);
the log's read cursor only saves re-reading what it handed out after that same seq. Counted
with the log's `bytes_read`, never timed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.server.conftest import TableKit
from tests.server.wire_client import open_stream
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.log import GroupCommitter, TableLog

_PAYLOAD = "x" * 1000


def test_each_cycle_reads_only_the_new_frames(zerobus_server: LocalZerobusServer, make_table) -> None:  # type: ignore[no-untyped-def]
    kit: TableKit = make_table("id BIGINT, payload STRING")
    log = zerobus_server.core.table(kit.name).log
    with open_stream(zerobus_server, kit.name, json=True) as stream:
        stream.wait_created()
        for batch in range(20):
            records = [json.dumps({"id": batch * 50 + i, "payload": _PAYLOAD}) for i in range(50)]
            stream.batch(batch, records)
        assert stream.wait_acked(19)
        zerobus_server.flush_materialization()
        backlog = log.bytes_read
        assert backlog >= 20 * 50 * len(_PAYLOAD)  # the first cycle read the backlog once

        per_cycle = []
        for offset in range(20, 25):
            before = log.bytes_read
            stream.record(offset, json.dumps({"id": 1000 + offset, "payload": "small"}))
            assert stream.wait_acked(offset)
            zerobus_server.flush_materialization()
            per_cycle.append(log.bytes_read - before)
        stream.half_close()
        assert stream.wait_done() is None

    new_frame = len(json.dumps({"id": 1000, "payload": "small"})) + 200  # record, request and frame headers
    assert all(0 < read <= new_frame for read in per_cycle), (per_cycle, backlog)
    ids = [row["id"] for row in zerobus_server.rows(kit.name)]
    assert ids == list(range(1000)) + [1000 + offset for offset in range(20, 25)]


def test_a_read_after_another_seq_starts_over_and_hands_out_the_same_frames(tmp_path: Path) -> None:
    """A failed commit leaves the materialised seq behind the cursor: nothing may be skipped."""
    committer = GroupCommitter()
    try:
        log = TableLog(tmp_path / "log", committer)
        for i in range(6):
            log.append(f"frame-{i}".encode())
        log.commit()
        assert [seq for seq, _ in log.read_durable(-1)] == [0, 1, 2, 3, 4, 5]
        # The commit of 0..5 failed: the Delta table still ends at seq 2.
        assert [seq for seq, _ in log.read_durable(2)] == [3, 4, 5]
        log.append(b"frame-6")
        log.commit()
        before = log.bytes_read
        assert [payload for _, payload in log.read_durable(5)] == [b"frame-6"]
        assert log.bytes_read - before == len(b"frame-6") + 16  # the one new frame, header included
        log.close()
    finally:
        committer.stop()


def test_a_reader_stopping_early_resumes_at_its_last_frame(tmp_path: Path) -> None:
    committer = GroupCommitter()
    try:
        log = TableLog(tmp_path / "log", committer, segment_bytes=64)
        for i in range(10):
            log.append(f"frame-{i}".encode())
            log.commit()  # small segments: the frames spread over several files
        assert len(list((tmp_path / "log").glob("*.log"))) > 1
        reader = log.read_durable(-1)
        first = [next(reader)[0] for _ in range(4)]
        reader.close()  # as a commit that reached its row limit does
        assert first == [0, 1, 2, 3]
        assert [seq for seq, _ in log.read_durable(3)] == [4, 5, 6, 7, 8, 9]
        assert [seq for seq, _ in log.read_durable(9)] == []
        log.close()
    finally:
        committer.stop()
