"""`zerobus-emulator`: run the local Zerobus server, and manage its tables over its REST API.

    zerobus-emulator start [--host H] [--grpc-port N] [--http-port N] [--data-dir DIR | --in-memory]
                           [--table "cat.sch.tbl: col TYPE, ..."]... [--ready-file PATH]
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
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import click
import requests

from zerobus.codegen.parse import schema_from_ddl
from zerobus.errors import ZerobusException
from zerobus.oauth import fetch_metadata_token
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET

__all__ = ["banner", "main"]

DEFAULT_DATA_DIR = "zerobus-data"


def banner(grpc_endpoint: str, workspace_url: str, data_dir: str) -> str:
    """The text `start` prints: what this is, where it listens, and how to point a client at it."""
    return "\n".join(
        [
            "Zerobus local emulator (NOT the Databricks service: for development and tests only)",
            f"  gRPC endpoint:  {grpc_endpoint}",
            f"  Workspace URL:  {workspace_url}",
            f"  Client id:      {DEV_CLIENT_ID}",
            f"  Client secret:  {DEV_CLIENT_SECRET}",
            f"  Data:           {data_dir}",
            "",
            "Point a client at it:",
            f"  export ZEROBUS_SERVER_ENDPOINT={grpc_endpoint}",
            f"  export DATABRICKS_HOST={workspace_url}",
            f"  export DATABRICKS_CLIENT_ID={DEV_CLIENT_ID}",
            f"  export DATABRICKS_CLIENT_SECRET={DEV_CLIENT_SECRET}",
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def _parse_table_option(text: str) -> tuple[str, str]:
    name, sep, columns = text.partition(":")
    if not sep or not name.strip() or not columns.strip():
        raise click.BadParameter(f"expected 'catalog.schema.table: col TYPE, ...', got {text!r}")
    return name.strip(), columns.strip()


@click.group(help="A local Zerobus-compatible server that writes real Delta tables.")
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
) -> None:
    from zerobus.server.local import LocalZerobusServer

    if in_memory and data_dir is not None:
        raise click.UsageError("--data-dir and --in-memory exclude each other")
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
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    try:
        shown_dir = "(in memory)" if in_memory else str(server.data_dir.resolve())
        click.echo(banner(server.grpc_endpoint, server.workspace_url, shown_dir), nl=True)
        sys.stdout.flush()
        if ready_file is not None:
            ready = {
                "grpc_endpoint": server.grpc_endpoint,
                "workspace_url": server.workspace_url,
                "client_id": server.client_id,
                "client_secret": server.client_secret,
                "data_dir": str(server.data_dir),
            }
            temp = ready_file.with_suffix(".tmp")
            temp.write_text(json.dumps(ready))
            temp.replace(ready_file)
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
    parts = name.split(".")
    if len(parts) != 3:
        raise click.BadParameter(f"expected catalog.schema.table, got {name!r}", param_hint="NAME")
    try:
        schema = schema_from_ddl(columns, name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="COLUMNS") from error
    body = {
        "catalog_name": parts[0],
        "schema_name": parts[1],
        "name": parts[2],
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
@click.option("--limit", type=int, default=None)
@_with_client_options
def rows(name: str, limit: int | None, workspace_url: str, client_id: str, client_secret: str) -> None:
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
