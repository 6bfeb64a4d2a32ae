"""Durability: the log survives crashes (torn tails, kill -9) and rows land exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.server.wire_client import open_stream
from zerobus.oauth import fetch_metadata_token
from zerobus.schema.descriptor import descriptor_proto, message_class
from zerobus.server import LocalZerobusServer
from zerobus.server.storage.log import GroupCommitter, TableLog


def test_torn_tail_is_truncated_and_intact_frames_survive(tmp_path: Path) -> None:
    committer = GroupCommitter()
    try:
        log = TableLog(tmp_path / "log", committer)
        for i in range(5):
            log.append(f"frame-{i}".encode())
        log.close()
        segment = next((tmp_path / "log").glob("*.log"))
        intact = segment.stat().st_size
        with open(segment, "ab") as handle:
            handle.write(b"\x10\x00\x00\x00garbage")  # a frame header whose body never made it
        reopened = TableLog(tmp_path / "log", committer)
        assert segment.stat().st_size == intact
        assert reopened.next_seq == 5 and reopened.durable_seq == 4
        assert [payload for _, payload in reopened.read_durable(-1)] == [
            f"frame-{i}".encode() for i in range(5)
        ]
        assert [seq for seq, _ in reopened.read_durable(2)] == [3, 4]
        reopened.close()
    finally:
        committer.stop()


def test_corrupted_frame_ends_the_log_there(tmp_path: Path) -> None:
    committer = GroupCommitter()
    try:
        log = TableLog(tmp_path / "log", committer)
        for i in range(3):
            log.append(b"x" * 10 + bytes([i]))
        log.close()
        segment = next((tmp_path / "log").glob("*.log"))
        data = bytearray(segment.read_bytes())
        data[-1] ^= 0xFF  # flip a bit in the last frame: its checksum no longer matches
        segment.write_bytes(bytes(data))
        reopened = TableLog(tmp_path / "log", committer)
        assert reopened.next_seq == 2
        reopened.close()
    finally:
        committer.stop()


def test_segments_rotate_and_materialised_ones_are_deleted(tmp_path: Path) -> None:
    committer = GroupCommitter()
    try:
        log = TableLog(tmp_path / "log", committer, segment_bytes=64)
        for _ in range(6):
            log.append(b"y" * 40)
            log.commit()
        assert len(list((tmp_path / "log").glob("*.log"))) > 2
        assert [seq for seq, _ in log.read_durable(-1)] == list(range(6))
        log.discard_through(3)
        assert [seq for seq, _ in log.read_durable(3)] == [4, 5]
        assert min(int(p.stem) for p in (tmp_path / "log").glob("*.log")) >= 3
        log.close()
    finally:
        committer.stop()


def test_restart_recovers_catalog_log_and_materialises_exactly_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalZerobusServer(data_dir=data_dir, materialize_delay_s=3600) as server:
        schema = server.create_table("main.default.events", "id BIGINT NOT NULL, note STRING")
        cls = message_class(schema)
        descriptor = descriptor_proto(schema).SerializeToString()
        with open_stream(server, "main.default.events", descriptor) as stream:
            stream.wait_created()
            stream.batch(0, [cls(id=i).SerializeToString() for i in range(3)])
            assert stream.wait_acked(0)
            server.flush_materialization()  # the first three are in Delta now
            stream.batch(1, [cls(id=i).SerializeToString() for i in range(3, 6)])
            assert stream.wait_acked(1)
    # stop() materialised the rest; a restart must not write anything twice.
    with LocalZerobusServer(data_dir=data_dir, materialize_delay_s=3600) as server:
        assert server.table_names() == ["main.default.events"]
        assert server.table_schema("main.default.events").columns == schema.columns
        assert sorted(r["id"] for r in server.rows("main.default.events")) == list(range(6))
        # New records after the restart continue the same log.
        with open_stream(server, "main.default.events", descriptor) as stream:
            stream.wait_created()
            stream.record(0, cls(id=6).SerializeToString())
            assert stream.wait_acked(0)
        assert sorted(r["id"] for r in server.rows("main.default.events")) == list(range(7))


def _start_cli(data_dir: Path, ready: Path) -> subprocess.Popen[str]:
    ready.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "zerobus.server.cli", "start",
        "--data-dir", str(data_dir), "--grpc-port", "0", "--http-port", "0",
        "--materialize-delay", "3600", "--ready-file", str(ready),
        "--table", "main.default.crash: id BIGINT NOT NULL, payload STRING",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"emulator did not start: {process.communicate()[1][-2000:]}")
        time.sleep(0.05)
    return process


class _Endpoints:
    def __init__(self, ready: Path) -> None:
        info = json.loads(ready.read_text())
        self.grpc_endpoint = info["grpc_endpoint"]
        self.workspace_url = info["workspace_url"]
        self.client_id = info["client_id"]
        self.client_secret = info["client_secret"]


def test_acknowledged_records_survive_kill_9(tmp_path: Path) -> None:
    data_dir, ready = tmp_path / "data", tmp_path / "ready.json"
    process = _start_cli(data_dir, ready)
    try:
        endpoints = _Endpoints(ready)
        token = fetch_metadata_token(endpoints.workspace_url, endpoints.client_id, endpoints.client_secret)
        table = requests.get(
            endpoints.workspace_url + "/api/2.1/unity-catalog/tables/main.default.crash",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        from zerobus.schema.uc_json import schema_from_uc_json

        schema = schema_from_uc_json(table)
        cls = message_class(schema)
        descriptor = descriptor_proto(schema).SerializeToString()
        server_view = endpoints  # duck-typed like LocalZerobusServer for the wire client
        with open_stream(server_view, "main.default.crash", descriptor) as stream:  # type: ignore[arg-type]
            stream.wait_created()
            stream.batch(0, [cls(id=i, payload="a").SerializeToString() for i in range(100)])
            assert stream.wait_acked(0)
            # Materialise the first batch (the rows endpoint flushes), then add more.
            rows = requests.get(
                endpoints.workspace_url + "/api/2.0/zerobus-emulator/tables/main.default.crash/rows",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert len(rows.json()["rows"]) == 100
            for offset in range(1, 11):
                stream.batch(
                    offset, [cls(id=offset * 1000 + i, payload="b").SerializeToString() for i in range(50)]
                )
            assert stream.wait_acked(10)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    with LocalZerobusServer(data_dir=data_dir) as server:
        ids = [row["id"] for row in server.rows("main.default.crash")]
    assert len(ids) == 600 and len(set(ids)) == 600


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_cli_start_prints_the_banner_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    process = _start_cli(tmp_path / "data", tmp_path / "ready.json")
    endpoints = _Endpoints(tmp_path / "ready.json")
    process.send_signal(stop_signal)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "local emulator" in stdout
    assert f"export ZEROBUS_SERVER_ENDPOINT={endpoints.grpc_endpoint}" in stdout
    assert f"export DATABRICKS_HOST={endpoints.workspace_url}" in stdout
    assert "export DATABRICKS_CLIENT_ID=zerobus-dev-client" in stdout
    assert "export DATABRICKS_CLIENT_SECRET=zerobus-dev-secret" in stdout
    assert "stopped." in stderr


def test_stop_ends_open_streams_with_a_retryable_status(tmp_path: Path) -> None:
    server = LocalZerobusServer(data_dir=tmp_path, tables={"a.b.c": "id BIGINT"})
    server.start()
    schema = server.table_schema("a.b.c")
    stream = open_stream(server, "a.b.c", descriptor_proto(schema).SerializeToString())
    try:
        stream.wait_created()
        stream.record(0, message_class(schema)(id=1).SerializeToString())
        assert stream.wait_acked(0)
        server.stop()
        error = stream.wait_done()
        assert error is not None and error.code().name == "UNAVAILABLE"
        assert "shutting down" in (error.details() or "")
        server.stop()  # idempotent
    finally:
        stream.cancel()
        server.stop()
