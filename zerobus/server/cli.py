"""`zerobus-emulator`: run the local Zerobus server, and manage its tables over its REST API.

    zerobus-emulator start [--host H] [--grpc-port N] [--http-port N] [--data-dir DIR | --in-memory]
                           [--table "cat.sch.tbl: col TYPE, ..."]... [--ready-file PATH]
                           [--tls [--tls-dir DIR]]
                           [--stream-rate-limit RECORDS_PER_S] [--stream-byte-rate-limit BYTES_PER_S]
                           [--service-limits]
                           [--log-level LEVEL]
    zerobus-emulator create-table NAME "col TYPE, col TYPE NOT NULL"
    zerobus-emulator tables
    zerobus-emulator describe NAME
    zerobus-emulator rows NAME [--limit N] [--wait N [--timeout S]] [--progress/--no-progress]
    zerobus-emulator drop-table NAME [--data-dir DIR]
    zerobus-emulator reset [--data-dir DIR] [--yes]
    zerobus-emulator stats [--json]
    zerobus-emulator env [--ready-file F | --data-dir DIR | --grpc-port N --http-port N]

The table commands talk to a running server at ``--workspace-url`` (default ``$DATABRICKS_HOST``)
with ``--client-id``/``--client-secret`` (default ``$DATABRICKS_CLIENT_ID``/``_SECRET``, else the
development principal); `drop-table` and `reset` act on a stopped server's files instead when
given ``--data-dir``. `rows`, `stats` and `/health` are the emulator's own endpoints (not part of
Unity Catalog). Exit statuses: `zerobus.server.cli_support.ExitStatus`.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import quote

import click

from zerobus import __version__
from zerobus.protocol.constants import TOKEN_PATH, UC_TABLES_PATH
from zerobus.server.cli_admin import drop_table, env, reset, stats
from zerobus.server.cli_rows import rows
from zerobus.server.cli_support import (
    EXIT_STATUS_HELP,
    CliError,
    ExitStatus,
    api_call,
    parse_columns,
    parse_name,
    with_client_options,
)
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from zerobus.server.identity.dev_idp import DEV_IDP_TOKEN_PATH
from zerobus.server.running_server import SERVER_FILE, remove_server_file, write_server_file
from zerobus.server.storage.atomic_files import atomic_write
from zerobus.server.storage.materialize_schedule import DEFAULT_MAX_LAG_S

__all__ = ["banner", "main"]

DEFAULT_DATA_DIR = "zerobus-data"


def banner(grpc_endpoint: str, workspace_url: str, data_dir: str, ca_file: Path | None = None) -> str:
    """The text `start` prints: what this is, where it listens, and how to point a client at it
    (with TLS, also which CA to trust and how)."""
    trust: list[str] = []
    if ca_file is not None:
        from zerobus.server.identity.tls import trust_instructions

        trust = [
            "",
            f"TLS: the server's certificate is signed by a local CA: {ca_file}",
            "Trust it:",
            *trust_instructions(ca_file),
        ]
    return "\n".join(
        [
            "Zerobus local emulator (NOT the Databricks service: for development and tests only)",
            f"  gRPC endpoint:  {grpc_endpoint}",
            f"  Workspace URL:  {workspace_url}",
            f"  Client id:      {DEV_CLIENT_ID}",
            f"  Client secret:  {DEV_CLIENT_SECRET}",
            f"  Data:           {data_dir}",
            "",
            f"Federated tokens (RFC 8693): a development IdP issues JWTs to exchange at {TOKEN_PATH}:",
            f"  curl -d subject={DEV_CLIENT_ID} {workspace_url}{DEV_IDP_TOKEN_PATH}",
            "",
            'Point a client at it (or, in another shell: eval "$(zerobus-emulator env)"):',
            f"  export ZEROBUS_SERVER_ENDPOINT={grpc_endpoint}",
            f"  export DATABRICKS_HOST={workspace_url}",
            f"  export DATABRICKS_CLIENT_ID={DEV_CLIENT_ID}",
            f"  export DATABRICKS_CLIENT_SECRET={DEV_CLIENT_SECRET}",
            *trust,
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def _parse_table_option(text: str) -> tuple[str, str]:
    name, sep, columns = text.partition(":")
    if not sep or not name.strip() or not columns.strip():
        raise CliError(
            ExitStatus.BAD_TABLE_DEFINITION,
            f"--table: expected 'catalog.schema.table: col TYPE, ...', got {text!r}",
        )
    full_name = parse_name(name.strip(" "), "--table").full_name  # spaces around ':' are layout
    parse_columns(columns, full_name, f"--table {full_name}")
    return full_name, columns.strip()


def _finite_rate(context: click.Context, parameter: click.Parameter, value: float | None) -> float | None:
    """A rate limit must be a finite number (FloatRange already refuses <= 0)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number of units per second, got {value}")
    return value


def _finite_seconds(context: click.Context, parameter: click.Parameter, value: float) -> float:
    """A duration must be a finite number (FloatRange already refuses what is below its minimum)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number of seconds, got {value}")
    return value


@click.group(
    help="A local Zerobus-compatible server that writes real Delta tables.",
    epilog=EXIT_STATUS_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="zerobus-emulator")
def main() -> None:
    pass


@main.command(
    help="Start the emulator and serve until Ctrl-C. A --table already in the data directory with "
    "other columns is refused (exit 6): drop it first (drop-table --data-dir) or reset.",
    epilog=EXIT_STATUS_HELP,
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--grpc-port", type=int, default=50051, show_default=True, help="0 picks a free port.")
@click.option("--http-port", type=int, default=8080, show_default=True, help="0 picks a free port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where tables, the log and Delta data live [default: ./{DEFAULT_DATA_DIR}].",
)
@click.option("--in-memory", is_flag=True, help="Keep everything in a temporary directory deleted at exit.")
@click.option("--table", "tables", multiple=True, help='"catalog.schema.table: col TYPE, ..." (repeatable).')
@click.option(
    "--materialize-delay",
    type=float,
    default=2.0,
    show_default=True,
    help="Seconds between materialisation passes: an acknowledged record reaches the Delta table "
    "in the next pass, up to this delay plus the time two passes take after its acknowledgement "
    "(more under load). To wait for rows, use `rows --wait N`, not a sleep.",
)
@click.option(
    "--materialize-max-lag",
    type=click.FloatRange(min=0),
    default=DEFAULT_MAX_LAG_S,
    show_default=True,
    callback=_finite_seconds,
    metavar="SECONDS",
    help="While records keep arriving, a timed pass waits for them to pause so it does not slow "
    "acknowledgements, but starts at most this long after the previous pass (0: never waits). "
    "`rows --wait` never waits for it.",
)
@click.option(
    "--max-stream-duration", type=float, default=None, help="Stream lifetime in seconds (6002 after)."
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the endpoints as JSON here once listening.",
)
@click.option(
    "--tls",
    is_flag=True,
    help="Serve gRPC and HTTP over TLS with a locally generated CA (its file is printed at start).",
)
@click.option(
    "--tls-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the CA and server certificate are kept (reused when present) [default: DATA_DIR/tls].",
)
@click.option(
    "--stream-rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    callback=_finite_rate,
    metavar="RECORDS_PER_S",
    help="Hold every stream to this many records/s, as the service does: acks are paced, so "
    "clients see backpressure [default: unlimited].",
)
@click.option(
    "--stream-byte-rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    callback=_finite_rate,
    metavar="BYTES_PER_S",
    help="Hold every stream to this many request bytes/s (paced the same way) [default: unlimited].",
)
@click.option(
    "--service-limits",
    is_flag=True,
    help="The service's per-stream limits: 15,000 records/s and 100 MB/s (explicit limits above win).",
)
@click.option(
    "--http-read-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds an HTTP request has to arrive whole (line, headers, body) before it gets 408.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="Log to stderr from this level; info logs one line per gRPC call, Flight call and HTTP "
    "request (method, table, status, duration).",
)
def start(
    host: str,
    grpc_port: int,
    http_port: int,
    data_dir: Path | None,
    in_memory: bool,
    tables: tuple[str, ...],
    materialize_delay: float,
    materialize_max_lag: float,
    max_stream_duration: float | None,
    ready_file: Path | None,
    tls: bool,
    tls_dir: Path | None,
    stream_rate_limit: float | None,
    stream_byte_rate_limit: float | None,
    service_limits: bool,
    http_read_timeout: float,
    log_level: str,
) -> None:
    from zerobus.server.local import LocalZerobusServer
    from zerobus.server.ports import PortInUse
    from zerobus.server.storage.data_dir_lock import DataDirInUse
    from zerobus.server.storage.declared_tables import TableDefinitionConflict

    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if in_memory and data_dir is not None:
        raise click.UsageError("--data-dir and --in-memory exclude each other")
    if tls_dir is not None and not tls:
        raise click.UsageError("--tls-dir needs --tls")
    if not in_memory and data_dir is None:
        data_dir = Path(DEFAULT_DATA_DIR)
    server = LocalZerobusServer(
        data_dir=None if in_memory else data_dir,
        host=host,
        grpc_port=grpc_port,
        http_port=http_port,
        materialize_delay_s=materialize_delay,
        materialize_max_lag_s=materialize_max_lag,
        max_stream_duration_s=max_stream_duration,
        tables=dict(_parse_table_option(t) for t in tables),
        tls=tls,
        tls_dir=tls_dir,
        stream_rate_limit=stream_rate_limit,
        stream_byte_rate_limit=stream_byte_rate_limit,
        service_limits=service_limits,
        http_read_timeout_s=http_read_timeout,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
    except PortInUse as error:
        raise CliError(ExitStatus.PORT_IN_USE, str(error)) from None
    except TableDefinitionConflict as error:
        raise CliError(ExitStatus.TABLE_CONFLICT, str(error)) from None
    except DataDirInUse as error:
        raise CliError(ExitStatus.DATA_DIR_IN_USE, str(error)) from None
    try:
        shown_dir = "(in memory)" if in_memory else str(server.data_dir.resolve())
        ca_file = server.ca_file.resolve() if tls else None
        click.echo(banner(server.grpc_endpoint, server.workspace_url, shown_dir, ca_file), nl=True)
        for name, reason in server.unavailable_tables().items():
            click.echo(
                f"WARNING: table {name} is unavailable (every other table is served): {reason}", err=True
            )
        sys.stdout.flush()
        ready = {
            "grpc_endpoint": server.grpc_endpoint,
            "workspace_url": server.workspace_url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "data_dir": str(server.data_dir.resolve()),
            "ca_file": str(server.ca_file.resolve()) if tls else None,
        }
        if not in_memory:
            write_server_file(server.data_dir / SERVER_FILE, ready)
        if ready_file is not None:
            atomic_write(ready_file, json.dumps(ready).encode("utf-8"))
        while not stop.wait(0.5):
            pass
    finally:
        click.echo("stopping...", err=True)
        server.stop()
        if not in_memory:
            remove_server_file(server.config.data_dir or Path(DEFAULT_DATA_DIR))
        click.echo("stopped.", err=True)


# --- table commands over REST -----------------------------------------------------------------------


@main.command(
    "create-table", help='Create a table: NAME "col TYPE, col TYPE NOT NULL, ...".', epilog=EXIT_STATUS_HELP
)
@click.argument("name")
@click.argument("columns")
@click.option("--comment", default=None)
@with_client_options
def create_table(
    name: str, columns: str, comment: str | None, workspace_url: str, client_id: str, client_secret: str
) -> None:
    table_name = parse_name(name)
    schema = parse_columns(columns, table_name.full_name, "COLUMNS")
    body = {
        "catalog_name": table_name.catalog,
        "schema_name": table_name.schema,
        "name": table_name.table,
        "columns": [column.to_uc_json() for column in schema.columns],
        "comment": comment,
    }
    table = api_call("POST", workspace_url, client_id, client_secret, UC_TABLES_PATH, json=body)
    click.echo(f"created {table['full_name']} at {table['storage_location']}")


@main.command(help="List tables.", epilog=EXIT_STATUS_HELP)
@with_client_options
def tables(workspace_url: str, client_id: str, client_secret: str) -> None:
    body = api_call("GET", workspace_url, client_id, client_secret, UC_TABLES_PATH)
    for table in body.get("tables", []):
        click.echo(table["full_name"])


@main.command(help="Show a table's columns as Unity Catalog returns them.", epilog=EXIT_STATUS_HELP)
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the whole UC JSON.")
@with_client_options
def describe(name: str, as_json: bool, workspace_url: str, client_id: str, client_secret: str) -> None:
    parse_name(name)
    table = api_call("GET", workspace_url, client_id, client_secret, f"{UC_TABLES_PATH}/{quote(name)}")
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    click.echo(f"{table['full_name']}  ({table['storage_location']})")
    for column in table["columns"]:
        null = "" if column["nullable"] else " NOT NULL"
        comment = f"  -- {column['comment']}" if column.get("comment") else ""
        click.echo(f"  {column['name']} {column['type_text']}{null}{comment}")


for _command in (rows, drop_table, reset, stats, env):
    main.add_command(_command)


if __name__ == "__main__":
    main()
