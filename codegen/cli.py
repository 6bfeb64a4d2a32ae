"""``zerobus-codegen``: generate a table's .proto, Pydantic models and descriptor set.

    zerobus-codegen table main.default.air_quality [--host URL] [--client-id ID] [--client-secret S]
    zerobus-codegen ddl "device_name STRING, temp INT NOT NULL" --name main.default.air_quality
    zerobus-codegen file air_quality.json

Output options (every command): ``--out-dir DIR``, ``--message-name NAME``, ``--class-name NAME``,
``--proto/--no-proto``, ``--models/--no-models``, ``--descriptor-set``, ``--arrow`` (the Arrow
schema for Flight ingestion, ``<Message>.arrow_schema``), ``--avro`` (the Avro writer schema of
AVRO streams, ``<Message>.avsc``), and ``--check``, which
writes nothing and fails when the files on disk differ from what the table implies (schema
drift in CI). Credentials default to DATABRICKS_HOST, DATABRICKS_CLIENT_ID and
DATABRICKS_CLIENT_SECRET.

A thin adapter over `zerobus.codegen.load_schema` / `generate` / `write_files` / `check_files`.

Exit codes:
    0  success (with --check: the files are up to date)
    1  --check: the files differ from the table (drift)
    2  usage error: bad option, table name, URL or input file
    3  authentication failed or not authorized (HTTP 401/403, OAuth refused)
    4  table not found (HTTP 404)
    5  unsupported type or invalid schema
    6  cannot write (or read back) the output files
    7  Unity Catalog unavailable (HTTP 5xx/429, network): retry later
    8  Unity Catalog refused the request for another reason
"""

from __future__ import annotations

import enum
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from zerobus import __version__
from zerobus.codegen.api import ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_HOST, load_schema
from zerobus.codegen.output_files import OutputError, check_files, generate, write_files
from zerobus.errors import ConfigurationError, SchemaError, ZerobusException
from zerobus.schema.ir import TableSchema
from zerobus.schema.uc import (
    CatalogAuthError,
    CatalogRequestError,
    CatalogUnavailableError,
    TableNotFoundError,
)

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    OK = 0
    DRIFT = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    SCHEMA = 5
    WRITE = 6
    UNAVAILABLE = 7
    CATALOG = 8


# Most specific first: the first matching class decides the exit code.
_EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (CatalogAuthError, ExitCode.AUTH),
    (TableNotFoundError, ExitCode.NOT_FOUND),
    (SchemaError, ExitCode.SCHEMA),
    (OutputError, ExitCode.WRITE),
    (ConfigurationError, ExitCode.USAGE),
    (CatalogUnavailableError, ExitCode.UNAVAILABLE),
    (CatalogRequestError, ExitCode.CATALOG),
    (ZerobusException, ExitCode.CATALOG),
)

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (with --check: files up to date)
  1  --check found drift: files differ from the table
  2  usage error (option, table name, URL, input file)
  3  authentication failed or not authorized (401/403)
  4  table not found (404)
  5  unsupported type or invalid schema
  6  cannot write the output files
  7  Unity Catalog unavailable (5xx/429/network): retry
  8  Unity Catalog refused the request otherwise
"""

_F = TypeVar("_F", bound=Callable[..., Any])


def _fail(error: BaseException) -> NoReturn:
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            click.echo(f"error: {error}", err=True)
            sys.exit(code)
    raise error


def _output_options(command: _F) -> _F:
    decorators = [
        click.option(
            "--out-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("."),
            show_default=True,
            help="Directory for the generated files.",
        ),
        click.option("--message-name", help="Proto message name (default: the table's name)."),
        click.option("--class-name", help="Model class name (default: PascalCase of the message name)."),
        click.option("--proto/--no-proto", default=True, show_default=True, help="Write <Message>.proto."),
        click.option(
            "--models/--no-models", default=True, show_default=True, help="Write <message>_model.py."
        ),
        click.option("--descriptor-set", is_flag=True, help="Also write <Message>.desc (FileDescriptorSet)."),
        click.option(
            "--arrow",
            is_flag=True,
            help="Also write <Message>.arrow_schema (Arrow IPC schema; pyarrow.ipc.read_schema reads it) "
            "and print the schema.",
        ),
        click.option(
            "--avro",
            is_flag=True,
            help="Also write <Message>.avsc (the Avro writer schema AVRO streams send).",
        ),
        click.option(
            "--check",
            is_flag=True,
            help="Write nothing; print a unified diff of what would change and exit 1 if the files on "
            "disk differ from the table.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _emit(
    load: Callable[[], TableSchema],
    out_dir: Path,
    message_name: str | None,
    class_name: str | None,
    proto: bool,
    models: bool,
    descriptor_set: bool,
    arrow: bool,
    avro: bool,
    check: bool,
) -> None:
    if not (proto or models or descriptor_set or arrow or avro):
        raise click.UsageError(
            "nothing to generate: --no-proto and --no-models without --descriptor-set, --arrow or --avro"
        )
    try:
        schema = load()
        files = generate(
            schema,
            out_dir,
            message_name=message_name,
            class_name=class_name,
            proto=proto,
            models=models,
            descriptor_set=descriptor_set,
            arrow=arrow,
            avro=avro,
        )
        if check:
            drift = check_files(files)
            for item in drift:
                click.echo(item.diff, nl=False)  # what a run without --check would change
                click.echo(f"drift: {item.path} ({item.reason})", err=True)
            if drift:
                click.echo(
                    f"error: {len(drift)} file(s) out of date with {schema.name}; rerun without --check",
                    err=True,
                )
                sys.exit(ExitCode.DRIFT)
            for generated in files:
                click.echo(f"up to date: {generated.path}")
            return
        write_files(files)
    except ZerobusException as error:
        _fail(error)
    for generated in files:
        click.echo(f"wrote {generated.path}")
    if arrow:
        click.echo(f"Arrow schema of {schema.name}:\n{schema.arrow_schema()}")


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zerobus-codegen")
@click.option("-v", "--verbose", is_flag=True, help="Log what is fetched and written.")
def main(verbose: bool) -> None:
    """Generate a table's proto2 schema, Pydantic models and descriptor set."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@click.option("--host", envvar=ENV_HOST, show_envvar=True, help="Workspace URL (Unity Catalog endpoint).")
@click.option(
    "--client-id", envvar=ENV_CLIENT_ID, show_envvar=True, help="OAuth client (service principal) id."
)
@click.option("--client-secret", envvar=ENV_CLIENT_SECRET, show_envvar=True, help="OAuth client secret.")
@_output_options
def table(
    name: str, host: str | None, client_id: str | None, client_secret: str | None, **options: Any
) -> None:
    """Fetch table NAME (catalog.schema.table) from Unity Catalog and generate its files."""
    if not host:
        raise click.UsageError(f"no workspace URL: pass --host or set {ENV_HOST}")
    _emit(lambda: load_schema(name, host=host, client_id=client_id, client_secret=client_secret), **options)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("columns")
@click.option("--name", required=True, help="Table name (catalog.schema.table, or a plain name).")
@_output_options
def ddl(columns: str, name: str, **options: Any) -> None:
    """Generate from a column DDL list such as "device_name STRING, temp INT NOT NULL"."""
    _emit(lambda: load_schema(name, ddl=columns), **options)


@main.command(name="file", epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_output_options
def file_command(path: Path, **options: Any) -> None:
    """Generate from a saved Unity Catalog tables-API answer (table JSON)."""
    _emit(lambda: load_schema(path=path), **options)


if __name__ == "__main__":  # pragma: no cover
    main()
