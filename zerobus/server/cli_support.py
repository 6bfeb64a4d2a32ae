"""Internal: What every `zerobus-emulator` command shares: exit statuses, one-line errors, the REST client.

A failure a person can act on (a bad name, a busy port, a server that is not there) is one
``Error: ...`` line on stderr and an exit status of its class, never a traceback; scripts can
tell the classes apart by the status (`ExitStatus`, listed in every command's help).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
import requests

from zerobus.errors import ConfigurationError, SchemaError, ZerobusException
from zerobus.names import TableName, parse_table_name
from zerobus.oauth import fetch_metadata_token
from zerobus.schema.ir import TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET

__all__ = [
    "EXIT_STATUS_HELP",
    "CliError",
    "ExitStatus",
    "api_call",
    "echo_json",
    "parse_columns",
    "parse_name",
    "with_client_options",
    "workspace_base_url",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class ExitStatus(enum.IntEnum):
    """The exit status of each class of failure."""

    OK = 0
    FAILED = 1  # anything else (the message says what)
    USAGE = 2  # a bad option or argument (click's usage errors)
    BAD_NAME = 3  # a table name that is not catalog.schema.table
    BAD_TABLE_DEFINITION = 4  # a --table spec or column list that does not parse
    PORT_IN_USE = 5  # --grpc-port or --http-port taken
    TABLE_CONFLICT = 6  # --table differs from the table already in the data directory
    SERVER_UNREACHABLE = 7  # nothing answers at --workspace-url
    REFUSED = 8  # the server (or the data directory) refused: no such table, credentials, ...
    DATA_DIR_IN_USE = 9  # a server is running on the data directory given to an offline command
    TIMED_OUT = 10  # rows --wait: the rows did not show up in time


EXIT_STATUS_HELP = """\b
Exit status:
  0 success                     6 --table differs from the data directory's table
  1 other failure               7 server unreachable
  2 usage                       8 refused (no such table, credentials, grants)
  3 bad table name              9 a server runs on the --data-dir
  4 bad table definition       10 timed out (rows --wait)
  5 port in use"""


class CliError(click.ClickException):
    """One line on stderr (``Error: <message>``) and the exit status of its class."""

    def __init__(self, status: ExitStatus, message: str) -> None:
        super().__init__(message)
        # click reads `exit_code` from the instance; its stubs declare a class-level constant.
        object.__setattr__(self, "exit_code", int(status))
        self.status = status


def parse_name(name: str, what: str = "NAME") -> TableName:
    """A table name, or `CliError` (`BAD_NAME`) naming the argument, the value and why."""
    try:
        return parse_table_name(name)
    except ConfigurationError as error:
        raise CliError(ExitStatus.BAD_NAME, f"{what}: {error}") from None


def parse_columns(columns: str, full_name: str, what: str) -> TableSchema:
    """A column DDL list, or `CliError` (`BAD_TABLE_DEFINITION`) naming the column and why."""
    try:
        return schema_from_ddl(columns, full_name)
    except SchemaError as error:
        raise CliError(ExitStatus.BAD_TABLE_DEFINITION, f"{what}: {error}") from None


_client_options = [
    click.option(
        "--workspace-url",
        envvar="DATABRICKS_HOST",
        show_envvar=True,
        default="http://127.0.0.1:8080",
        show_default=True,
        help="The running emulator's HTTP endpoint.",
    ),
    click.option(
        "--client-id",
        envvar="DATABRICKS_CLIENT_ID",
        show_envvar=True,
        default=DEV_CLIENT_ID,
        help="[default: the development principal]",
    ),
    click.option(
        "--client-secret",
        envvar="DATABRICKS_CLIENT_SECRET",
        show_envvar=True,
        default=DEV_CLIENT_SECRET,
        help="[default: the development principal's]",
    ),
]


def with_client_options(function: _F) -> _F:
    """Add --workspace-url, --client-id and --client-secret (with their environment variables)."""
    for option in reversed(_client_options):
        function = option(function)
    return function


def workspace_base_url(workspace_url: str) -> str:
    return (workspace_url if "://" in workspace_url else f"https://{workspace_url}").rstrip("/")


def _unreachable(url: str, error: Exception) -> CliError:
    return CliError(
        ExitStatus.SERVER_UNREACHABLE,
        f"no emulator answers at {url} ({type(error).__name__}): start one with `zerobus-emulator start`, "
        "or point --workspace-url / DATABRICKS_HOST at it",
    )


def api_call(
    method: str,
    workspace_url: str,
    client_id: str | None,
    client_secret: str | None,
    path: str,
    **kwargs: Any,
) -> Any:
    """One REST call (with a token unless `client_id` is None); its JSON body, or `CliError`."""
    url = workspace_base_url(workspace_url)
    headers: dict[str, str] = {}
    try:
        if client_id is not None and client_secret is not None:
            headers["Authorization"] = f"Bearer {fetch_metadata_token(url, client_id, client_secret)}"
        kwargs.setdefault("timeout", 60)
        response = requests.request(method, url + path, headers=headers, **kwargs)
    except requests.ConnectionError as error:
        raise _unreachable(url, error) from None
    except ZerobusException as error:
        if isinstance(error.cause, requests.ConnectionError):
            raise _unreachable(url, error) from None
        raise CliError(ExitStatus.REFUSED, str(error)) from None
    except requests.RequestException as error:
        raise CliError(ExitStatus.FAILED, f"{method} {url}{path}: {error}") from None
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text}
    if response.status_code != 200:
        message = body.get("message", body) if isinstance(body, dict) else body
        code = body.get("error_code", "") if isinstance(body, dict) else ""
        status = ExitStatus.TIMED_OUT if response.status_code == 408 else ExitStatus.REFUSED
        raise CliError(status, f"HTTP {response.status_code} {code}: {message}")
    return body


def echo_json(document: Any) -> None:
    """Strict JSON on stdout (never a bare NaN or Infinity: see `zerobus.server.frontends.rows_route.json_safe`)."""
    click.echo(json.dumps(document, allow_nan=False))
