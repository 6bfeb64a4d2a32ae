"""The README's pytest-plugin block, run as the test module it is, with pytest, in a fresh session."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"

# The application the block tests (`import my_app`): reads the four variables, writes 10 rows.
MY_APP = """
import os

from zerobus.sdk.sync import TableProperties, ZerobusSdk


def run(table):
    sdk = ZerobusSdk(os.environ["ZEROBUS_SERVER_ENDPOINT"], os.environ["DATABRICKS_HOST"])
    try:
        with sdk.create_stream(
            os.environ["DATABRICKS_CLIENT_ID"], os.environ["DATABRICKS_CLIENT_SECRET"], TableProperties(table)
        ) as stream:
            stream.ingest_records_offset([{"id": i, "name": f"n{i}"} for i in range(10)])
    finally:
        sdk.close()
"""


def _plugin_block() -> str:
    (block,) = [
        match.group(1)
        for match in re.finditer(r"```python\n(.*?)```", README.read_text(), re.S)
        if "import my_app" in match.group(1)
    ]
    return block


def test_the_plugin_block_passes_under_pytest(tmp_path: Path) -> None:
    block = _plugin_block()
    tests = re.findall(r"^(?:async )?def (test_\w+)", block, re.M)
    assert {"test_with_a_ready_stream", "test_with_a_ready_async_stream"} <= set(tests)
    (tmp_path / "test_readme_block.py").write_text(block)
    (tmp_path / "my_app.py").write_text(MY_APP)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::pytest.PytestWarning"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(tests)} passed" in result.stdout, result.stdout
