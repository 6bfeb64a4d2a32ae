"""Internal: `zerobus-emulator drop-table`, `reset`, `stats` and `env`: looking after an emulator.

`drop-table` and `reset` act on a running server through its REST API by default, and on a
stopped server's data directory with ``--data-dir`` (refused while a server runs on it: its
state would disagree with the files). `reset --data-dir` deletes every table (catalog, logs,
Delta data) and keeps ``auth/`` and ``tls/``: tokens clients cached stay valid, and the CA they
trust stays the same.
"""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from zerobus.protocol.constants import UC_TABLES_PATH
from zerobus.server.cli_support import (
    EXIT_STATUS_HELP,
    CliError,
    ExitStatus,
    api_call,
    echo_json,
    parse_name,
    with_client_options,
)
from zerobus.server.running_server import SERVER_FILE, read_server_file, running_server

__all__ = ["drop_table", "env", "reset", "stats"]

DEFAULT_DATA_DIR = Path("zerobus-data")
_TABLES_PATH = UC_TABLES_PATH
_DATA_DIR_HELP = "Act on this stopped server's data directory instead of a running server."


def _stopped_data_dir(data_dir: Path) -> Path:
    """`data_dir` if it holds emulator data and no server runs on it; else `CliError`."""
    if not (data_dir / "catalog").is_dir():
        raise CliError(
            ExitStatus.REFUSED, f"--data-dir {data_dir}: no emulator data there (no catalog/ directory)"
        )
    server = running_server(data_dir)
    if server is not None:
        raise CliError(
            ExitStatus.DATA_DIR_IN_USE,
            f"--data-dir {data_dir}: a server (pid {server['pid']}, {server['workspace_url']}) runs on it: "
            "stop it first, or leave out --data-dir to act through it",
        )
    return data_dir


@click.command("drop-table", help="Drop a table and delete its data.", epilog=EXIT_STATUS_HELP)
@click.argument("name")
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=_DATA_DIR_HELP
)
@with_client_options
def drop_table(
    name: str, data_dir: Path | None, workspace_url: str, client_id: str, client_secret: str
) -> None:
    full_name = parse_name(name).full_name
    if data_dir is None:
        api_call("DELETE", workspace_url, client_id, client_secret, f"{_TABLES_PATH}/{quote(full_name)}")
        click.echo(f"dropped {full_name}")
        return
    from zerobus.server.storage.catalog import Catalog, TableNotFound

    catalog = Catalog(_stopped_data_dir(data_dir))
    try:
        catalog.drop(full_name)
    except TableNotFound as error:
        raise CliError(ExitStatus.REFUSED, f"{error} (in {data_dir})") from None
    click.echo(f"dropped {full_name} from {data_dir}")


@click.command(help="Drop every table and delete its data.", epilog=EXIT_STATUS_HELP)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=_DATA_DIR_HELP + " Keeps auth/ (issued tokens) and tls/ (the CA).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_client_options
def reset(data_dir: Path | None, yes: bool, workspace_url: str, client_id: str, client_secret: str) -> None:
    where = str(data_dir) if data_dir is not None else workspace_url
    if data_dir is not None:
        _stopped_data_dir(data_dir)
    if not yes:
        _confirm_reset(where)
    if data_dir is not None:
        for part in ("catalog", "tables"):
            shutil.rmtree(data_dir / part, ignore_errors=True)
        click.echo(f"removed every table from {data_dir} (kept auth/ and tls/)")
        return
    listed = api_call("GET", workspace_url, client_id, client_secret, _TABLES_PATH)
    names = [table["full_name"] for table in listed.get("tables", [])]
    for full_name in names:
        api_call("DELETE", workspace_url, client_id, client_secret, f"{_TABLES_PATH}/{quote(full_name)}")
    click.echo(f"dropped {len(names)} table(s) at {workspace_url}")


def _confirm_reset(where: str) -> None:
    """Ask before deleting every table; with no answer to read (no terminal), say how to confirm."""
    try:
        confirmed = click.confirm(f"Drop every table of {where} and delete its data?", default=False)
    except click.Abort:
        click.echo(err=True)
        raise CliError(
            ExitStatus.USAGE, "reset deletes every table's data and got no answer to confirm it: pass --yes"
        ) from None
    if not confirmed:
        raise click.Abort


def _human_stats(document: dict[str, Any]) -> list[str]:
    streams, records = document["streams"], document["records"]
    lines = [
        f"uptime            {document['uptime_s']:.1f} s",
        f"streams           {streams['open']} open, {streams['created']} created, {streams['rejected']} rejected",
        f"requests          {document['requests']['received']} received, {document['requests']['rejected']} rejected",
        f"records           {records['received']} received, {records['stored']} stored",
        f"bytes received    {document['bytes_received']}",
        f"acks              {document['acks']['sent']} sent, {document['acks']['paced']} paced",
        f"rows materialised {document['rows_materialized']}",
        f"quarantined       {document['quarantined_frames']} frame(s)",
    ]
    tables = document["tables"]
    if tables:
        width = max(len("table"), *map(len, tables))
        lines.append("")
        lines.append(
            f"{'table':<{width}}  {'acked':>8}  {'in delta':>8}  {'lag':>6}  {'quarant.':>8}  problem"
        )
        for name, table in tables.items():
            if "unavailable" in table:
                lines.append(
                    f"{name:<{width}}  {'':>8}  {'':>8}  {'':>6}  {'':>8}  unavailable: {table['unavailable']}"
                )
                continue
            lines.append(
                f"{name:<{width}}  {table['acknowledged_frames']:>8}  {table['materialized_frames']:>8}  "
                f"{table['materialization_lag_frames']:>6}  {table['quarantined_frames']:>8}  "
                f"{table['materialization_error'] or '-'}"
            )
    return lines


@click.command(
    help="Show the running server's counters, and per table the frames acknowledged, in Delta and lagging.",
    epilog=EXIT_STATUS_HELP,
)
@click.option("--json", "as_json", is_flag=True, help="Print the stats document as JSON.")
@click.option(
    "--workspace-url",
    envvar="DATABRICKS_HOST",
    show_envvar=True,
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The running emulator's HTTP endpoint.",
)
def stats(as_json: bool, workspace_url: str) -> None:
    from zerobus.server.frontends.observability import STATS_PATH

    document = api_call("GET", workspace_url, None, None, STATS_PATH)
    if as_json:
        echo_json(document)
        return
    for line in _human_stats(document):
        click.echo(line)


def _export_lines(server: dict[str, Any]) -> list[str]:
    values = {
        "ZEROBUS_SERVER_ENDPOINT": server["grpc_endpoint"],
        "DATABRICKS_HOST": server["workspace_url"],
        "DATABRICKS_CLIENT_ID": server["client_id"],
        "DATABRICKS_CLIENT_SECRET": server["client_secret"],
    }
    ca_file = server.get("ca_file")
    if ca_file:  # gRPC, requests and OpenSSL-based clients each read their own variable
        for name in ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            values[name] = ca_file
    return [f"export {name}={shlex.quote(str(value))}" for name, value in values.items()]


@click.command(
    help='Print the export lines that point clients at a running emulator: eval "$(zerobus-emulator env)". '
    "Reads the server's ready file, the emulator.json a server keeps in its data directory "
    f"[default: ./{DEFAULT_DATA_DIR}], or --grpc-port and --http-port.",
    epilog=EXIT_STATUS_HELP,
)
@click.option(
    "--ready-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="A --ready-file."
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="A data directory."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="With --grpc-port and --http-port.")
@click.option("--grpc-port", type=click.IntRange(1, 65535), default=None)
@click.option("--http-port", type=click.IntRange(1, 65535), default=None)
def env(
    ready_file: Path | None, data_dir: Path | None, host: str, grpc_port: int | None, http_port: int | None
) -> None:
    from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET

    if (grpc_port is None) != (http_port is None):
        raise click.UsageError("--grpc-port and --http-port go together")
    sources = sum(x is not None for x in (ready_file, data_dir, grpc_port))
    if sources > 1:
        raise click.UsageError("give one of --ready-file, --data-dir, or --grpc-port with --http-port")
    if grpc_port is not None:
        shown = f"[{host}]" if ":" in host else host
        server: dict[str, Any] = {
            "grpc_endpoint": f"http://{shown}:{grpc_port}",
            "workspace_url": f"http://{shown}:{http_port}",
            "client_id": DEV_CLIENT_ID,
            "client_secret": DEV_CLIENT_SECRET,
        }
    elif ready_file is not None:
        found = read_server_file(ready_file)
        if found is None:
            raise CliError(
                ExitStatus.SERVER_UNREACHABLE,
                f"--ready-file {ready_file}: no ready file of an emulator there",
            )
        server = found
    else:
        directory = data_dir if data_dir is not None else DEFAULT_DATA_DIR
        alive = running_server(directory)
        if alive is None:
            raise CliError(
                ExitStatus.SERVER_UNREACHABLE,
                f"no emulator runs on {directory} (no live {SERVER_FILE} there): start one, or give "
                "--ready-file, --data-dir, or --grpc-port and --http-port",
            )
        server = alive
    for line in _export_lines(server):
        click.echo(line)
