"""The README's "From Spark" block runs as written against the local server and lands its rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyspark")

from zerobus.quickstart import AIR_QUALITY_DDL, TABLE
from zerobus.server import LocalZerobusServer

pytestmark = pytest.mark.spark

README = Path(__file__).resolve().parents[2] / "README.md"


def spark_block() -> str:
    text = README.read_text()
    section = text[text.index("\n## From Spark\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the From Spark section has a Python block"
    return match.group(1)


def test_the_from_spark_block_lands_its_rows(tmp_path: Path) -> None:
    with LocalZerobusServer(
        data_dir=tmp_path / "server", materialize_delay_s=0.2, tables={TABLE: AIR_QUALITY_DDL}
    ) as server:
        env = dict(os.environ) | {
            "ZEROBUS_SERVER_ENDPOINT": server.grpc_endpoint,
            "DATABRICKS_HOST": server.workspace_url,
            "DATABRICKS_CLIENT_ID": server.client_id,
            "DATABRICKS_CLIENT_SECRET": server.client_secret,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
        result = subprocess.run(
            [sys.executable, "-c", spark_block()],
            check=False,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        rows = server.rows(TABLE)
        assert len(rows) == 10_000
        assert {row["device_name"] for row in rows} == {f"spark-{i}" for i in range(10)}
