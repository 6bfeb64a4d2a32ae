"""The README's local-server path: one table definition for every block, and the in-process block."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from zerobus.quickstart import AIR_QUALITY_DDL, TABLE
from zerobus.schema.parse import schema_from_ddl
from zerobus.server.storage.declared_tables import schema_differences

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text()


def _start_tables() -> list[str]:
    """The --table values of every `zerobus-emulator start` command the README shows."""
    commands = re.findall(r"^zerobus-emulator start .*?(?<!\\)$", TEXT.replace("\\\n", " "), re.M)
    return [
        words[i + 1]
        for command in commands
        for words in [shlex.split(command)]
        for i, w in enumerate(words)
        if w == "--table"
    ]


def test_the_readme_starts_the_server_with_the_quickstart_table() -> None:
    (spec,) = _start_tables()
    name, _, columns = spec.partition(":")
    assert name.strip() == TABLE
    declared = schema_from_ddl(columns, TABLE)
    assert schema_differences(schema_from_ddl(AIR_QUALITY_DDL, TABLE), declared) == []


def test_the_pb2_block_comes_after_the_codegen_and_protoc_steps() -> None:
    codegen = TEXT.index("zerobus-codegen table main.default.air_quality")
    protoc = TEXT.index("python -m grpc_tools.protoc -I. --python_out=. air_quality.proto")
    pb2_block = TEXT.index("import air_quality_pb2")
    assert codegen < protoc < pb2_block


def test_the_local_server_block_runs(tmp_path: Path) -> None:
    (block,) = [
        match.group(1)
        for match in re.finditer(r"```python\n(.*?)```", TEXT, re.S)
        if "with LocalZerobusServer(" in match.group(1)
    ]
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
