"""A log frame that cannot be materialised never blocks its table, nor is it lost silently.

It is quarantined (kept on disk with the reason, logged, counted), every other frame of the
table and of other tables reaches Delta, and `rows()` / `flush_materialization()` raise
`FramesQuarantined` naming it instead of answering with rows missing. The record checks refuse
everything Delta cannot hold, so a frame that passes them yet fails is made either with the
fault injector or by writing a frame into the log directly (a log from before the checks).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import requests
from deltalake import DeltaTable

from tests.server.wire_client import open_stream
from zerobus.oauth import fetch_metadata_token
from zerobus.protocol import EphemeralStreamRequest, IngestRecordRequest
from zerobus.schema.descriptor import descriptor_proto, message_class
from zerobus.server import FramesQuarantined, LocalZerobusServer
from zerobus.server.storage.frames import JSON_KEY, KIND_JSON, frame_prefix, split_frame
from zerobus.server.storage.log import GroupCommitter, TableLog


def _delta_ids(server: LocalZerobusServer, name: str) -> list[int]:
    """The ids in the Delta table, read with deltalake directly (not through `rows`)."""
    table = DeltaTable(str(server.table_path(name))).to_pyarrow_table()
    return sorted(table.column("id").to_pylist())


def test_a_frame_that_cannot_be_materialised_is_quarantined_and_everything_else_lands(
    zerobus_server: LocalZerobusServer, make_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    kit = make_table("id BIGINT, name STRING")
    other = make_table("id BIGINT")
    zerobus_server.faults.fail_materialization(kit.name, 1, "injected: cannot be written")
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=1))  # frame 0
        stream.batch(1, [kit.encode(id=2), kit.encode(id=3)])  # frame 1: quarantined
        stream.record(2, kit.encode(id=4))  # frame 2
        assert stream.wait_acked(2), stream.error_text()
    with open_stream(zerobus_server, other.name, other.descriptor) as stream:
        stream.wait_created()
        stream.record(0, other.encode(id=10))
        assert stream.wait_acked(0), stream.error_text()

    with (
        caplog.at_level(logging.ERROR, logger="zerobus.server.storage.quarantine"),
        pytest.raises(FramesQuarantined) as raised,
    ):
        zerobus_server.rows(kit.name)
    [frame] = raised.value.frames
    assert (frame.table, frame.seq) == (kit.name, 1)
    assert "injected: cannot be written" in frame.reason and "injected: cannot be written" in str(
        raised.value
    )
    assert any("quarantined" in r.getMessage() and kit.name in r.getMessage() for r in caplog.records)
    # The frame is kept exactly as logged: the request with both records.
    _kind, _key, request = split_frame(frame.path.read_bytes())
    batch = EphemeralStreamRequest.FromString(request).ingest_record_batch.proto_encoded_batch
    assert list(batch.records) == [kit.encode(id=2), kit.encode(id=3)]
    assert zerobus_server.stats.quarantined_frames[kit.name] == 1
    assert zerobus_server.quarantined_frames(kit.name) == [frame]

    # Every other frame landed, in this table and in the other one.
    assert _delta_ids(zerobus_server, kit.name) == [1, 4]
    assert zerobus_server.rows(other.name) == [{"id": 10}]
    # The table goes on: later records land too.
    with open_stream(zerobus_server, kit.name, kit.descriptor) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=5))
        assert stream.wait_acked(0), stream.error_text()
    with pytest.raises(FramesQuarantined):
        zerobus_server.flush_materialization()
    assert _delta_ids(zerobus_server, kit.name) == [1, 4, 5]
    # Over REST too: a success answer with rows missing would be silent loss.
    token = fetch_metadata_token(
        zerobus_server.workspace_url, zerobus_server.client_id, zerobus_server.client_secret
    )
    answer = requests.get(
        f"{zerobus_server.workspace_url}/api/2.0/zerobus-emulator/tables/{kit.name}/rows",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["error_code"] == "ROWS_QUARANTINED" and "quarantined" in answer.json()["message"]


def _json_frame(offset: int, record: str) -> bytes:
    request = EphemeralStreamRequest(ingest_record=IngestRecordRequest(offset_id=offset, json_record=record))
    return frame_prefix(KIND_JSON, JSON_KEY) + bytes(request.SerializeToString())


def test_a_poison_frame_in_an_old_log_is_quarantined_and_survives_restarts(tmp_path: Path) -> None:
    """A log written before the checks refused lone surrogates: Arrow cannot take that frame."""
    data_dir = tmp_path / "data"
    name = "main.default.events"
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={name: "id BIGINT, name STRING"}
    ):
        pass
    log_dir = next((data_dir / "tables").iterdir()) / "log"
    committer = GroupCommitter()
    try:
        log = TableLog(log_dir, committer)
        log.append(_json_frame(0, json.dumps({"id": 1, "name": "a"})))
        log.append(_json_frame(1, '{"id": 2, "name": "\\ud800"}'))  # no UTF-8 form: Arrow refuses it
        log.append(_json_frame(2, json.dumps({"id": 3, "name": "c"})))
        log.close()
    finally:
        committer.stop()

    with LocalZerobusServer(data_dir=data_dir, materialize_delay_s=3600) as server:
        with pytest.raises(FramesQuarantined) as raised:
            server.rows(name)
        [frame] = raised.value.frames
        assert frame.seq == 1 and "surrogate" in frame.reason
        assert _delta_ids(server, name) == [1, 3]
        assert server.stats.quarantined_frames == {name: 1}

    # Restarted: the quarantine is still reported (nothing is written twice), not counted again.
    with LocalZerobusServer(data_dir=data_dir, materialize_delay_s=3600) as server:
        assert [f.seq for f in server.quarantined_frames()] == [1]
        assert server.stats.quarantined_frames == {}
        with pytest.raises(FramesQuarantined):
            server.rows(name)
        # Deleting the kept files releases the frame; the rows are what landed, once.
        frame.path.unlink()
        frame.path.with_suffix(".reason").unlink()
        assert server.rows(name) == [{"id": 1, "name": "a"}, {"id": 3, "name": "c"}]


# --- startup with a broken table ---------------------------------------------------------------------


def _ingest(server: LocalZerobusServer, name: str, ids: list[int]) -> None:
    schema = server.table_schema(name)
    cls = message_class(schema)
    with open_stream(server, name, descriptor_proto(schema).SerializeToString()) as stream:
        stream.wait_created()
        stream.batch(0, [cls(id=i).SerializeToString() for i in ids])
        assert stream.wait_acked(0), stream.error_text()


def _two_tables(data_dir: Path) -> Path:
    """Tables `a` and `b` with rows in Delta; returns the Delta log directory of `a`."""
    with LocalZerobusServer(
        data_dir=data_dir, materialize_delay_s=3600, tables={"main.t.a": "id BIGINT", "main.t.b": "id BIGINT"}
    ) as server:
        _ingest(server, "main.t.a", [1, 2])
        _ingest(server, "main.t.b", [3])
        server.flush_materialization()
        return server.table_path("main.t.a") / "_delta_log"


def test_a_delta_log_without_any_commit_is_repaired_at_start(tmp_path: Path) -> None:
    """The crash window inside table creation: `_delta_log/` exists, no commit was written."""
    delta_log = _two_tables(tmp_path / "data")
    for entry in delta_log.iterdir():
        if entry.is_file():
            entry.unlink()
    with LocalZerobusServer(data_dir=tmp_path / "data", materialize_delay_s=3600) as server:
        assert server.unavailable_tables() == {}
        # Recreated empty, then the durable log (never discarded: one segment) is materialised again.
        assert server.rows("main.t.a") == [{"id": 1}, {"id": 2}]
        assert server.rows("main.t.b") == [{"id": 3}]
        _ingest(server, "main.t.a", [4])
        assert server.rows("main.t.a") == [{"id": 1}, {"id": 2}, {"id": 4}]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_table_whose_delta_log_cannot_be_read_is_reported_and_the_others_are_served(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    delta_log = _two_tables(tmp_path / "data")
    last_commit = sorted(delta_log.glob("*.json"))[-1]
    text = last_commit.read_text()
    last_commit.write_text("{not json" if damage == "garbage" else text[: len(text) // 2])
    with caplog.at_level(logging.ERROR, logger="zerobus.server.server_core"):
        server = LocalZerobusServer(data_dir=tmp_path / "data", materialize_delay_s=3600).start()
    try:
        broken = server.unavailable_tables()
        assert list(broken) == ["main.t.a"], broken
        assert server.stats.unavailable_tables.keys() == {"main.t.a"}
        assert any("main.t.a" in r.getMessage() and "unavailable" in r.getMessage() for r in caplog.records)
        # Every other table works: rows, new records.
        assert server.rows("main.t.b") == [{"id": 3}]
        _ingest(server, "main.t.b", [5])
        assert server.rows("main.t.b") == [{"id": 3}, {"id": 5}]
        # The broken one says so, to streams and to readers.
        with open_stream(
            server, "main.t.a", descriptor_proto(server.table_schema("main.t.a")).SerializeToString()
        ) as stream:
            error = stream.wait_done()
            assert error is not None and "unavailable" in (error.details() or ""), stream.error_text()
        with pytest.raises(KeyError, match="unavailable"):
            server.rows("main.t.a")
        # It can be dropped and created again.
        server.drop_table("main.t.a")
        server.create_table("main.t.a", "id BIGINT")
        _ingest(server, "main.t.a", [7])
        assert server.rows("main.t.a") == [{"id": 7}]
    finally:
        server.stop()


def test_rows_report_a_table_whose_writes_keep_failing_instead_of_missing_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing disk under Delta cannot be made for real on loopback: writing the data file is made to fail."""
    import pyarrow.parquet

    from zerobus.server import MaterializationFailing

    with LocalZerobusServer(
        data_dir=tmp_path / "data", materialize_delay_s=3600, tables={"main.t.a": "id BIGINT"}
    ) as server:
        real_write = pyarrow.parquet.write_table

        def failing_write(*args: Any, **kwargs: Any) -> None:
            raise OSError(28, "No space left on device (test)")

        monkeypatch.setattr(pyarrow.parquet, "write_table", failing_write)
        _ingest(server, "main.t.a", [1, 2])
        with pytest.raises(MaterializationFailing, match="No space left on device"):
            server.rows("main.t.a")
        with pytest.raises(MaterializationFailing):
            server.flush_materialization()
        monkeypatch.setattr(pyarrow.parquet, "write_table", real_write)
        assert server.rows("main.t.a") == [{"id": 1}, {"id": 2}]
        server.flush_materialization()


def test_the_emulator_command_starts_and_names_a_table_it_cannot_open(tmp_path: Path) -> None:
    import signal

    from tests.server.test_durability import _start_cli

    delta_log = _two_tables(tmp_path / "data")
    sorted(delta_log.glob("*.json"))[-1].write_text("{not json")
    process = _start_cli(tmp_path / "data", tmp_path / "ready.json")
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "local emulator" in stdout
    assert "WARNING: table main.t.a is unavailable" in stderr, stderr
