"""Every command-line tool answers `--version` and `-h` (its subcommands too), and its help names
the environment variables it reads."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from zerobus import __version__
from zerobus.cli import main as zerobus_main
from zerobus.codegen.cli import main as codegen_main
from zerobus.ingest.cli import main as ingest_main
from zerobus.quickstart import main as quickstart_main
from zerobus.server.cli import main as emulator_main

TOOLS = {
    "zerobus": zerobus_main,
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


# Environment variables a tool reads in its code rather than through an option's `envvar`.
READ_IN_CODE = {
    "zerobus-quickstart": (
        "ZEROBUS_SERVER_ENDPOINT",
        "DATABRICKS_HOST",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
    ),
}


def _commands(name: str) -> list[tuple[list[str], click.Command]]:
    tool = TOOLS[name]
    found: list[tuple[list[str], click.Command]] = [([], tool)]
    if isinstance(tool, click.Group):
        found += [([sub], command) for sub, command in tool.commands.items()]
    return found


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_help_names_every_environment_variable_a_command_reads(name: str) -> None:
    for args, command in _commands(name):
        variables: set[str] = set(READ_IN_CODE.get(name, ())) if not args else set()
        for parameter in command.params:
            envvar = getattr(parameter, "envvar", None)
            variables.update([envvar] if isinstance(envvar, str) else list(envvar or ()))
        help_text = CliRunner().invoke(TOOLS[name], [*args, "--help"], terminal_width=200).output
        flat = " ".join(help_text.split())
        missing = sorted(v for v in variables if v not in flat)
        assert not missing, f"{name} {' '.join(args)} --help does not name {missing}"
