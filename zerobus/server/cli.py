"""`zerobus-emulator`: run the local Zerobus server, and manage its tables over its REST API.

    zerobus-emulator start [--host H] [--grpc-port N] [--http-port N] [--data-dir DIR | --in-memory]
                           [--table "cat.sch.tbl: col TYPE, ..."]... [--ready-file PATH]
                           [--tls [--tls-dir DIR]]
                           [--stream-rate-limit RECORDS_PER_S] [--stream-byte-rate-limit BYTES_PER_S]
                           [--service-limits]
    zerobus-emulator create-table NAME "col TYPE, col TYPE NOT NULL"
    zerobus-emulator tables
    zerobus-emulator describe NAME
    zerobus-emulator rows NAME [--limit N]

The table commands talk to a running server at ``--workspace-url`` (default ``$DATABRICKS_HOST``)
with ``--client-id``/``--client-secret`` (default ``$DATABRICKS_CLIENT_ID``/``_SECRET``, else the
development principal). `rows` uses the emulator's own endpoint
``GET /api/2.0/zerobus-emulator/tables/{name}/rows`` (not part of Unity Catalog).
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import click
import requests

from zerobus import __version__
from zerobus.codegen.parse import schema_from_ddl
from zerobus.errors import ConfigurationError, SchemaError, ZerobusException
from zerobus.names import TableName, parse_table_name
from zerobus.oauth import fetch_metadata_token
from zerobus.server.atomic_files import atomic_write
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from zerobus.server.dev_idp import DEV_IDP_TOKEN_PATH

__all__ = ["banner", "main"]

DEFAULT_DATA_DIR = "zerobus-data"


def banner(grpc_endpoint: str, workspace_url: str, data_dir: str, ca_file: Path | None = None) -> str:
    """The text `start` prints: what this is, where it listens, and how to point a client at it
    (with TLS, also which CA to trust and how)."""
    trust: list[str] = []
    if ca_file is not None:
        from zerobus.server.tls import trust_instructions

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
            "Federated tokens (RFC 8693): a development IdP issues JWTs to exchange at /oidc/v1/token:",
            f"  curl -d subject={DEV_CLIENT_ID} {workspace_url}{DEV_IDP_TOKEN_PATH}",
            "",
            "Point a client at it:",
            f"  export ZEROBUS_SERVER_ENDPOINT={grpc_endpoint}",
            f"  export DATABRICKS_HOST={workspace_url}",
            f"  export DATABRICKS_CLIENT_ID={DEV_CLIENT_ID}",
            f"  export DATABRICKS_CLIENT_SECRET={DEV_CLIENT_SECRET}",
            *trust,
            "",
            "Press Ctrl-C to stop.",
        ]
    )


class BadInputError(click.ClickException):
    """A bad table name or table definition: one line on stderr and exit code 2, before any I/O."""

    exit_code = 2


def _table_name(name: str) -> TableName:
    try:
        return parse_table_name(name)
    except ConfigurationError as error:
        raise BadInputError(str(error)) from None


def _parse_table_option(text: str) -> tuple[str, str]:
    name, sep, columns = text.partition(":")
    if not sep or not name.strip() or not columns.strip():
        raise BadInputError(f"--table: expected 'catalog.schema.table: col TYPE, ...', got {text!r}")
    full_name = _table_name(name.strip(" ")).full_name  # spaces around ':' are layout; nothing else is
    try:
        schema_from_ddl(columns, full_name)
    except SchemaError as error:
        raise BadInputError(f"--table {full_name}: {error}") from None
    return full_name, columns.strip()


def _finite_rate(context: click.Context, parameter: click.Parameter, value: float | None) -> float | None:
    """A rate limit must be a finite number (FloatRange already refuses <= 0)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number of units per second, got {value}")
    return value


@click.group(
    help="A local Zerobus-compatible server that writes real Delta tables.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="zerobus-emulator")
def main() -> None:
    pass


@main.command(help="Start the emulator and serve until Ctrl-C.")
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
    help="Seconds within which acknowledged records reach the Delta table.",
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
def start(
    host: str,
    grpc_port: int,
    http_port: int,
    data_dir: Path | None,
    in_memory: bool,
    tables: tuple[str, ...],
    materialize_delay: float,
    max_stream_duration: float | None,
    ready_file: Path | None,
    tls: bool,
    tls_dir: Path | None,
    stream_rate_limit: float | None,
    stream_byte_rate_limit: float | None,
    service_limits: bool,
    http_read_timeout: float,
) -> None:
    from zerobus.server.local import LocalZerobusServer

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
    server.start()
    try:
        shown_dir = "(in memory)" if in_memory else str(server.data_dir.resolve())
        ca_file = server.ca_file.resolve() if tls else None
        click.echo(banner(server.grpc_endpoint, server.workspace_url, shown_dir, ca_file), nl=True)
        for name, reason in server.unavailable_tables().items():
            click.echo(
                f"WARNING: table {name} is unavailable (every other table is served): {reason}", err=True
            )
        sys.stdout.flush()
        if ready_file is not None:
            ready = {
                "grpc_endpoint": server.grpc_endpoint,
                "workspace_url": server.workspace_url,
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "data_dir": str(server.data_dir),
                "ca_file": str(server.ca_file.resolve()) if tls else None,
            }
            atomic_write(ready_file, json.dumps(ready).encode("utf-8"))
        while not stop.wait(0.5):
            pass
    finally:
        click.echo("stopping...", err=True)
        server.stop()
        click.echo("stopped.", err=True)


# --- table commands over REST -----------------------------------------------------------------------

_client_options = [
    click.option(
        "--workspace-url", envvar="DATABRICKS_HOST", default="http://127.0.0.1:8080", show_default=True
    ),
    click.option("--client-id", envvar="DATABRICKS_CLIENT_ID", default=DEV_CLIENT_ID),
    click.option("--client-secret", envvar="DATABRICKS_CLIENT_SECRET", default=DEV_CLIENT_SECRET),
]


def _with_client_options(function: Any) -> Any:
    for option in reversed(_client_options):
        function = option(function)
    return function


def _call(
    method: str, workspace_url: str, client_id: str, client_secret: str, path: str, **kwargs: Any
) -> Any:
    url = workspace_url if "://" in workspace_url else f"https://{workspace_url}"
    try:
        token = fetch_metadata_token(url, client_id, client_secret)
        response = requests.request(
            method, url.rstrip("/") + path, headers={"Authorization": f"Bearer {token}"}, timeout=60, **kwargs
        )
    except (ZerobusException, requests.RequestException) as error:
        raise click.ClickException(str(error)) from error
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if response.status_code != 200:
        raise click.ClickException(
            f"HTTP {response.status_code} {body.get('error_code', '')}: {body.get('message', body)}"
        )
    return body


@main.command("create-table", help='Create a table: NAME "col TYPE, col TYPE NOT NULL, ...".')
@click.argument("name")
@click.argument("columns")
@click.option("--comment", default=None)
@_with_client_options
def create_table(
    name: str, columns: str, comment: str | None, workspace_url: str, client_id: str, client_secret: str
) -> None:
    table_name = _table_name(name)
    try:
        schema = schema_from_ddl(columns, table_name.full_name)
    except SchemaError as error:
        raise BadInputError(f"COLUMNS: {error}") from None
    body = {
        "catalog_name": table_name.catalog,
        "schema_name": table_name.schema,
        "name": table_name.table,
        "columns": [column.to_uc_json() for column in schema.columns],
        "comment": comment,
    }
    table = _call("POST", workspace_url, client_id, client_secret, "/api/2.1/unity-catalog/tables", json=body)
    click.echo(f"created {table['full_name']} at {table['storage_location']}")


@main.command(help="List tables.")
@_with_client_options
def tables(workspace_url: str, client_id: str, client_secret: str) -> None:
    body = _call("GET", workspace_url, client_id, client_secret, "/api/2.1/unity-catalog/tables")
    for table in body.get("tables", []):
        click.echo(table["full_name"])


@main.command(help="Show a table's columns as Unity Catalog returns them.")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the whole UC JSON.")
@_with_client_options
def describe(name: str, as_json: bool, workspace_url: str, client_id: str, client_secret: str) -> None:
    _table_name(name)
    table = _call(
        "GET", workspace_url, client_id, client_secret, f"/api/2.1/unity-catalog/tables/{quote(name)}"
    )
    if as_json:
        click.echo(json.dumps(table, indent=2))
        return
    click.echo(f"{table['full_name']}  ({table['storage_location']})")
    for column in table["columns"]:
        null = "" if column["nullable"] else " NOT NULL"
        comment = f"  -- {column['comment']}" if column.get("comment") else ""
        click.echo(f"  {column['name']} {column['type_text']}{null}{comment}")


@main.command(help="Print a table's rows (materialising acknowledged records first), one JSON per line.")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=0), default=None)
@_with_client_options
def rows(name: str, limit: int | None, workspace_url: str, client_id: str, client_secret: str) -> None:
    _table_name(name)
    params = {"limit": limit} if limit is not None else None
    body = _call(
        "GET",
        workspace_url,
        client_id,
        client_secret,
        f"/api/2.0/zerobus-emulator/tables/{quote(name)}/rows",
        params=params,
    )
    for row in body["rows"]:
        click.echo(json.dumps(row))


if __name__ == "__main__":
    main()
