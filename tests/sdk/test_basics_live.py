"""Create, ingest with every API, flush, close: both drivers against the local server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.sdk.shared import StreamState, TableProperties


def test_create_ingest_flush_close(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    assert stream.get_state() is StreamState.OPENED and stream.stream_id
    offsets = driver.ingest_all(
        stream, "ingest_record_offset", [{"id": i, "name": f"n{i}"} for i in range(100)]
    )
    assert offsets == list(range(100))
    stream.flush()
    assert list(stream.get_unacked_records()) == []
    stream.close()
    assert stream.get_state() is StreamState.CLOSED
    stream.close()  # idempotent
    rows = zerobus_server.rows(events_table)
    assert ids(rows) == list(range(100))
    assert {row["name"] for row in rows} == {f"n{i}" for i in range(100)}


def test_every_ingest_api(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    ack = stream.ingest_record({"id": 0})
    assert ack.wait_for_ack(10) == 0 and ack.is_done()
    assert stream.ingest_record_offset({"id": 1}) == 1
    assert stream.ingest_record_nowait({"id": 2}) is None
    assert stream.ingest_records_offset([{"id": 3}, {"id": 4}, {"id": 5}]) == 3
    assert stream.ingest_records_offset([]) is None
    assert stream.ingest_records_nowait([{"id": 6}, {"id": 7}]) is None
    offset = stream.ingest_record_offset({"id": 8})
    assert offset == 5  # one logical offset per submission; the empty list took none
    stream.wait_for_offset(offset, 10)
    late = stream.ingest_record({"id": 9})
    seen: list[int] = []
    late.add_done_callback(seen.append)
    stream.close()
    assert ids(zerobus_server.rows(events_table)) == list(range(10))
    if driver.name == "aio":
        assert late.awaited() == 6
    assert late.is_done()


def test_with_statement_closes(driver: Any, zerobus_server: Any, events_table: str) -> None:
    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    with stream:
        driver.ingest_all(stream, "ingest_record_nowait", [{"id": i} for i in range(10)])
    assert stream.get_state() is StreamState.CLOSED
    assert ids(zerobus_server.rows(events_table)) == list(range(10))


def test_ingest_after_close_is_refused(driver: Any, zerobus_server: Any, events_table: str) -> None:
    from zerobus.errors import NonRetriableException

    stream = driver.create_stream(
        zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), fast_options()
    )
    stream.close()
    with pytest.raises(NonRetriableException, match="closed"):
        stream.ingest_record_offset({"id": 1})


def test_sync_per_record_path_keeps_the_methods_face_and_yields_to_overrides(
    zerobus_server: Any, events_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sync streams run a compiled copy of ingest_record_offset; a subclass's override still wins."""
    from zerobus.sdk import sync
    from zerobus.sdk.sync import stream as stream_module
    from zerobus.sdk.sync import zerobus_sdk

    seen: list[Any] = []

    class Logged(stream_module.ZerobusStream):
        def ingest_record_offset(self, record: Any) -> int:
            seen.append(record)
            return super().ingest_record_offset(record)

    sdk = sync.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    credentials = (zerobus_server.client_id, zerobus_server.client_secret)
    try:
        plain = sdk.create_stream(*credentials, TableProperties(events_table), fast_options())
        compiled = plain.ingest_record_offset
        assert compiled.__name__ == "ingest_record_offset"
        assert compiled.__doc__ == stream_module.ZerobusStream.ingest_record_offset.__doc__
        assert compiled({"id": 0}) == 0
        plain.close()
        monkeypatch.setattr(zerobus_sdk, "ZerobusStream", Logged)
        logged = sdk.create_stream(*credentials, TableProperties(events_table), fast_options())
        assert logged.ingest_record_offset({"id": 1}) == 0
        assert logged.ingest_record({"id": 2}).wait_for_ack(10) == 1  # goes through the override too
        logged.close()
    finally:
        sdk.close()
    assert seen == [{"id": 1}, {"id": 2}]
    assert ids(zerobus_server.rows(events_table)) == [0, 1, 2]


def test_a_channel_left_open_is_closed_at_exit(zerobus_server: Any, events_table: str, tmp_path: Any) -> None:
    """A program that never closes its sync SDK (like the README's examples) exits cleanly, its
    channel closed by the SDK's exit hook while grpc's threads can still run."""
    import subprocess
    import sys

    script = f"""
import logging
from zerobus.sdk.sync import TableProperties, ZerobusSdk
logging.basicConfig(level=logging.WARNING)
logging.getLogger("zerobus.sdk.sync.zerobus_sdk").setLevel(logging.DEBUG)
sdk = ZerobusSdk({zerobus_server.grpc_endpoint!r}, {zerobus_server.workspace_url!r})
stream = sdk.create_stream({zerobus_server.client_id!r}, {zerobus_server.client_secret!r},
                           TableProperties({events_table!r}))
for i in range(100):
    stream.ingest_record_offset({{"id": i}})
stream.close()
closed = ZerobusSdk({zerobus_server.grpc_endpoint!r}, {zerobus_server.workspace_url!r})
closed.create_stream({zerobus_server.client_id!r}, {zerobus_server.client_secret!r},
                     TableProperties({events_table!r})).close()
closed.close()  # closed by the program: not the hook's business
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "closing 1 gRPC channel(s) left open at exit" in result.stderr
    assert ids(zerobus_server.rows(events_table)) == list(range(100))
