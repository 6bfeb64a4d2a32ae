"""Every command-line tool answers `--version` and `-h` (its subcommands too)."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from zerobus import __version__
from zerobus.codegen.cli import main as codegen_main
from zerobus.ingest.cli import main as ingest_main
from zerobus.quickstart import main as quickstart_main
from zerobus.server.cli import main as emulator_main

TOOLS = {
    "zerobus-emulator": emulator_main,
    "zerobus-codegen": codegen_main,
    "zerobus-ingest": ingest_main,
    "zerobus-quickstart": quickstart_main,
}


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_version_names_the_tool_and_the_version(name: str) -> None:
    result = CliRunner().invoke(TOOLS[name], ["--version"])
    assert result.exit_code == 0, result.output
    assert name in result.output and __version__ in result.output


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_short_help_works_on_the_tool_and_every_subcommand(name: str) -> None:
    tool = TOOLS[name]
    result = CliRunner().invoke(tool, ["-h"])
    assert result.exit_code == 0 and result.output.startswith("Usage:"), result.output
    if isinstance(tool, click.Group):
        for command in tool.commands:
            sub = CliRunner().invoke(tool, [command, "-h"])
            assert sub.exit_code == 0 and sub.output.startswith("Usage:"), (command, sub.output)
