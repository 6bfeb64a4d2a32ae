"""Drop-in: the official SDK's own README examples (sync and asyncio, dicts and compiled `_pb2`)
run on this SDK against the local server, verbatim but for the endpoint and credential values.

The README is read from the official package's metadata in its own venv
(tests/support/official_sdk.py), so the test follows what users copy from PyPI.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.official_sdk import require_official_sdk_python

TABLE_DDL = "device_name STRING, temp INT, humidity BIGINT"
RECORD_PROTO = """syntax = "proto2";

message AirQuality {
    optional string device_name = 1;
    optional int32 temp = 2;
    optional int64 humidity = 3;
}
"""
ENDPOINT_LITERAL = re.compile(r'"https://[0-9]+\.zerobus\.[^"]+"')
WORKSPACE_LITERAL = re.compile(r'"https://dbc-[^"]+"')


def _official_readme() -> str:
    python = require_official_sdk_python()
    (metadata,) = python.parent.parent.glob(
        "lib/python*/site-packages/databricks_zerobus_ingest_sdk-*/METADATA"
    )
    return metadata.read_text()


def _examples(readme: str) -> dict[str, str]:
    """The README's complete stream examples: sync/aio x dicts/pb2."""
    found = {}
    for block in re.findall(r"```python\n(.*?)```", readme, re.S):
        if (
            "create_stream(client_id, client_secret, table_properties)" not in block
            or "for i in range" not in block
        ):
            continue
        driver = "aio" if "zerobus.sdk.aio" in block else "sync"
        shape = "pb2" if "record_pb2" in block else "dict"
        found.setdefault(f"{driver}-{shape}", block)
    return found


@pytest.fixture(scope="module")
def examples() -> dict[str, str]:
    found = _examples(_official_readme())
    assert set(found) == {"sync-dict", "aio-dict", "sync-pb2", "aio-pb2"}, sorted(found)
    return found


@pytest.mark.official_sdk
@pytest.mark.parametrize("example", ["sync-dict", "aio-dict", "sync-pb2", "aio-pb2"])
def test_official_readme_example_runs_verbatim(
    example: str, examples: dict[str, str], zerobus_server: Any, zerobus_table: Any, tmp_path: Path
) -> None:
    from grpc_tools import protoc

    server = zerobus_server
    table = zerobus_table(TABLE_DDL)
    (tmp_path / "record.proto").write_text(RECORD_PROTO)
    assert (
        protoc.main(["protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", str(tmp_path / "record.proto")])
        == 0
    )

    code = examples[example]
    code = ENDPOINT_LITERAL.sub(repr(server.grpc_endpoint), code)
    code = WORKSPACE_LITERAL.sub(repr(server.workspace_url), code)
    code = code.replace('"main.default.air_quality"', repr(table))
    settings = (
        f"client_id = {server.client_id!r}\n"
        f"client_secret = {server.client_secret!r}\n"
        f"server_endpoint = {server.grpc_endpoint!r}\n"
        f"workspace_url = {server.workspace_url!r}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", settings + code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = server.rows(table)
    assert sorted((r["device_name"], r["temp"], r["humidity"]) for r in rows) == sorted(
        (f"sensor-{i % 10}", 20 + i % 15, 50 + i % 40) for i in range(100)
    )
