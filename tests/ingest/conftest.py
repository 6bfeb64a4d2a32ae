"""File ingestion tests drive the installed `zerobus-ingest` command against the plugin's session server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zerobus.server import LocalZerobusServer

INGEST = str(Path(sys.executable).with_name("zerobus-ingest"))

AIR_QUALITY = (
    "device_name STRING NOT NULL, temp INT, humidity BIGINT, pm25 DOUBLE, measured_at TIMESTAMP NOT NULL, "
    "reading_date DATE, location STRUCT<lat: DOUBLE, lon: DOUBLE>, tags MAP<STRING, STRING>, "
    "calibration DECIMAL(6,3), ok BOOLEAN"
)


def server_env(server: LocalZerobusServer) -> dict[str, str]:
    """The environment `zerobus-ingest` reads, pointing at `server`."""
    return dict(os.environ) | {
        "ZEROBUS_SERVER_ENDPOINT": server.grpc_endpoint,
        "DATABRICKS_HOST": server.workspace_url,
        "DATABRICKS_CLIENT_ID": server.client_id,
        "DATABRICKS_CLIENT_SECRET": server.client_secret,
    }


@dataclass
class Ingest:
    """Runs `zerobus-ingest` as a separate process against the session server."""

    server: LocalZerobusServer
    cwd: Path

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [INGEST, *args],
            cwd=self.cwd,
            env=env if env is not None else server_env(self.server),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture
def ingest(zerobus_server: LocalZerobusServer, tmp_path: Path) -> Ingest:
    return Ingest(zerobus_server, tmp_path)


@pytest.fixture
def air_quality(zerobus_table: Callable[..., str]) -> str:
    return zerobus_table(AIR_QUALITY)


def rows_by(server: LocalZerobusServer, table: str, key: str) -> dict[Any, dict[str, Any]]:
    """The table's rows (read back from Delta), keyed by column `key`."""
    return {row[key]: row for row in server.rows(table)}
