"""Every code block of the README: Python blocks run against the local server (or, when marked
``<!-- no-run: reason -->``, are at least compiled), and the commands it shows exist."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zerobus.codegen import load_schema, proto_text
from zerobus.quickstart import AIR_QUALITY_DDL, TABLE
from zerobus.server import LocalZerobusServer

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"(?:<!-- no-run: (?P<why>[^>]*) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    code: str
    no_run: str | None

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def _blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(text.count("\n", 0, m.start("code")), m.group("lang"), m.group("code"), m.group("why"))
        for m in FENCE.finditer(text)
    ]


BLOCKS = _blocks()
PYTHON = [b for b in BLOCKS if b.lang == "python"]
RUNNABLE = [b for b in PYTHON if b.no_run is None]


def test_the_readme_has_runnable_python_blocks() -> None:
    assert len(RUNNABLE) >= 6
    assert all(b.lang in ("python", "bash", "sql", "") for b in BLOCKS)


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_block_compiles(block: Block) -> None:
    compile(block.code, block.id, "exec")


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LocalZerobusServer, Path, dict[str, str]]]:
    """A local server holding the quickstart table, and a directory with what the blocks import."""
    work = tmp_path_factory.mktemp("readme")
    with LocalZerobusServer(
        data_dir=work / "server", materialize_delay_s=0.2, tables={TABLE: AIR_QUALITY_DDL}
    ) as server:
        env = dict(os.environ) | {
            "ZEROBUS_SERVER_ENDPOINT": server.grpc_endpoint,
            "DATABRICKS_HOST": server.workspace_url,
            "DATABRICKS_CLIENT_ID": server.client_id,
            "DATABRICKS_CLIENT_SECRET": server.client_secret,
        }
        _compile_pb2(server, work)
        yield server, work, env


def _compile_pb2(server: LocalZerobusServer, work: Path) -> None:
    """`air_quality_pb2`: protoc's output for the .proto zerobus-codegen writes."""
    from grpc_tools import protoc

    schema = load_schema(
        TABLE, host=server.workspace_url, client_id=server.client_id, client_secret=server.client_secret
    )
    proto = work / "air_quality.proto"
    proto.write_text(proto_text(schema))
    assert protoc.main(["protoc", f"-I{work}", f"--python_out={work}", str(proto)]) == 0


def _run(args: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=False, cwd=work, env=env, capture_output=True, text=True, timeout=120)


def test_readme_codegen_command_writes_the_model(
    workspace: tuple[LocalZerobusServer, Path, dict[str, str]],
) -> None:
    _, work, env = workspace
    (command,) = [
        line.split("#")[0].strip()
        for b in BLOCKS
        if b.lang == "bash"
        for line in b.code.splitlines()
        if line.startswith("zerobus-codegen table")
    ]
    result = _run(
        [str(Path(sys.executable).parent / "zerobus-codegen"), *shlex.split(command)[1:]], work, env
    )
    assert result.returncode == 0, result.stderr
    assert (work / "air_quality_model.py").is_file()
    assert (work / "air_quality.proto").read_text() == proto_text(load_schema(TABLE, ddl=AIR_QUALITY_DDL))


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.id)
def test_python_block_runs_against_the_local_server(
    block: Block, workspace: tuple[LocalZerobusServer, Path, dict[str, str]]
) -> None:
    server, work, env = workspace
    if "air_quality_model" in block.code and not (work / "air_quality_model.py").exists():
        test_readme_codegen_command_writes_the_model(workspace)
    before = len(server.rows(TABLE))
    result = _run([sys.executable, "-c", block.code], work, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(server.rows(TABLE)) > before, "the block landed rows in the table"


def test_readme_cli_flags_exist() -> None:
    """Every `--flag` the README shows for a command is in that command's --help."""
    commands = {
        "zerobus-quickstart": [["zerobus-quickstart"]],
        "zerobus-emulator": [
            ["zerobus-emulator", command]
            for command in ("start", "rows", "drop-table", "reset", "stats", "env")
        ],
        "zerobus-codegen": [["zerobus-codegen", "table"], ["zerobus-codegen", "ddl"]],
        "generate_proto": [[sys.executable, "-m", "zerobus.tools.generate_proto"]],
    }
    text = README.read_text()
    bindir = Path(sys.executable).parent
    for name, invocations in commands.items():
        helps = ""
        for invocation in invocations:
            args = (
                [str(bindir / invocation[0]), *invocation[1:]]
                if invocation[0] != sys.executable
                else invocation
            )
            helps += _run([*args, "--help"], README.parent, dict(os.environ)).stdout
        # Paragraphs and list items, so flags on a bullet's continuation lines count too.
        chunks = re.split(r"\n\n|\n- ", text)
        mentioned = {
            flag for chunk in chunks if name in chunk for flag in re.findall(r"(--[a-z][a-z-]+)", chunk)
        } - {"--help"}
        missing = {flag.split("/")[0] for flag in mentioned if flag not in helps}
        assert not missing, f"{name}: README mentions {sorted(missing)} missing from --help"
