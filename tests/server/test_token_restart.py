"""Tokens stay valid across a restart of the server on the same data directory."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import requests

from tests.server.conftest import TableKit
from tests.server.wire_client import ingest_token, open_stream
from zerobus.server import LocalZerobusServer

TABLE = "main.default.restart_tokens"


def _stream_one(server: LocalZerobusServer, token: str, value: int) -> None:
    kit = TableKit(server, TABLE)
    with open_stream(server, TABLE, kit.descriptor, token=token) as stream:
        stream.wait_created()
        stream.record(0, kit.encode(id=value))
        assert stream.wait_acked(0), stream.error_text()


def test_a_token_issued_before_a_restart_still_streams_and_reads(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT"}) as before:
        token = ingest_token(before, TABLE)
        _stream_one(before, token, 1)
    with LocalZerobusServer(data_dir=tmp_path) as after:
        _stream_one(after, token, 2)  # same token, new process state
        described = requests.get(
            f"{after.workspace_url}/api/2.1/unity-catalog/tables/{TABLE}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert described.status_code == 200, described.text
        assert sorted(row["id"] for row in after.rows(TABLE)) == [1, 2]


def test_expired_tokens_stay_refused_after_a_restart(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT"}) as before:
        token = ingest_token(before, TABLE)
        before.expire_tokens()
    with LocalZerobusServer(data_dir=tmp_path) as after:
        kit = TableKit(after, TABLE)
        with open_stream(after, TABLE, kit.descriptor, token=token) as stream:
            error = stream.wait_done()
            assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "expired" in (error.details() or "")


def test_in_memory_servers_do_not_share_tokens() -> None:
    with LocalZerobusServer(tables={TABLE: "id BIGINT"}) as first:
        token = ingest_token(first, TABLE)
    with LocalZerobusServer(tables={TABLE: "id BIGINT"}) as second:
        kit = TableKit(second, TABLE)
        with open_stream(second, TABLE, kit.descriptor, token=token) as stream:
            error = stream.wait_done()
            assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_outliving_its_expiry_across_a_restart_is_refused(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT"}, token_lifetime_s=60) as before:
        asked_at = time.time()
        token = ingest_token(before, TABLE)
        answered_at = time.time()
    with LocalZerobusServer(data_dir=tmp_path, token_lifetime_s=60) as after:
        after.core.tokens.clock = lambda: asked_at + 59  # the injected clock: no sleeping
        _stream_one(after, token, 1)
        after.core.tokens.clock = lambda: answered_at + 60
        kit = TableKit(after, TABLE)
        with open_stream(after, TABLE, kit.descriptor, token=token) as stream:
            error = stream.wait_done()
            assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "expired" in (error.details() or "")
        described = requests.get(
            f"{after.workspace_url}/api/2.1/unity-catalog/tables/{TABLE}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert described.status_code == 401 and "expired" in described.json()["message"]
