"""`zerobus`: the toolkit's umbrella command; `zerobus doctor` checks a setup end to end."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zerobus import __version__
from zerobus.errors import ZerobusException

if TYPE_CHECKING:
    from zerobus.doctor.report import CheckResult, DoctorSettings

__all__ = ["main"]

ENV_ENDPOINT = "ZEROBUS_SERVER_ENDPOINT"
ENV_HOST = "DATABRICKS_HOST"
ENV_CLIENT_ID = "DATABRICKS_CLIENT_ID"
ENV_CLIENT_SECRET = "DATABRICKS_CLIENT_SECRET"

DOCTOR_EXIT_CODES = """\b
Exit status:
  0  every check passed (or was skipped as not asked for)
  2  usage: a missing or malformed option
  3  the endpoint is not reachable     7  no grant to write the table
     (or answers REST, not gRPC)
  4  TLS differs from the server's     8  the table does not exist
  5  the workspace URL does not answer 9  generated files differ from the table
  6  no token for the client credentials
The first failing check decides the status; later checks that depend on it are skipped.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zerobus")
def main() -> None:
    """Zerobus toolkit commands."""


@main.command(epilog=DOCTOR_EXIT_CODES)
@click.option("--table", required=True, help="The table to write: catalog.schema.table.")
@click.option("--endpoint", envvar=ENV_ENDPOINT, show_envvar=True, help="The Zerobus (gRPC) endpoint URL.")
@click.option(
    "--workspace-url", envvar=ENV_HOST, show_envvar=True, help="The workspace URL (OAuth, Unity Catalog)."
)
@click.option(
    "--client-id", envvar=ENV_CLIENT_ID, show_envvar=True, help="OAuth client (service principal) id."
)
@click.option("--client-secret", envvar=ENV_CLIENT_SECRET, show_envvar=True, help="OAuth client secret.")
@click.option(
    "--tls/--plaintext",
    default=None,
    help="Speak TLS (or plaintext) to the endpoint whatever its scheme says [default: https:// means TLS].",
)
@click.option(
    "--root-certificates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM file of the CAs to trust (a private CA such as `zerobus-emulator start --tls` makes) "
    "[default: GRPC_DEFAULT_SSL_ROOTS_FILE_PATH for the endpoint, REQUESTS_CA_BUNDLE for the workspace, "
    "else the system's].",
)
@click.option(
    "--generated",
    type=click.Path(path_type=Path),
    help="A file `zerobus-codegen table` wrote, or its directory: checked against the table now.",
)
def doctor(
    table: str,
    endpoint: str | None,
    workspace_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    tls: bool | None,
    root_certificates: Path | None,
    generated: Path | None,
) -> None:
    """Check a Zerobus setup, one line per check, with the fix for each failure."""
    from zerobus.doctor.report import exit_status, run_checks

    settings = _settings(
        table,
        endpoint,
        workspace_url,
        client_id,
        client_secret,
        tls,
        root_certificates,
        generated,
    )
    results: list[CheckResult] = []
    for result in run_checks(settings):
        click.echo(result.line())
        results.append(result)
    status = exit_status(results)
    failures = sum(result.fix is not None for result in results)
    click.echo("all checks passed" if status == 0 else f"{failures} check(s) failed")
    sys.exit(status)


def _settings(
    table: str,
    endpoint: str | None,
    workspace_url: str | None,
    client_id: str | None,
    client_secret: str | None,
    tls: bool | None,
    root_certificates: Path | None,
    generated: Path | None,
) -> DoctorSettings:
    """The options checked before any network call; a bad one is a usage error naming it."""
    from zerobus.doctor.report import DoctorSettings
    from zerobus.endpoints import parse_endpoint, parse_table_name
    from zerobus.sdk.shared.trust import load_root_certificates

    missing = [
        f"{option} (or {variable})"
        for option, variable, value in (
            ("--endpoint", ENV_ENDPOINT, endpoint),
            ("--workspace-url", ENV_HOST, workspace_url),
            ("--client-id", ENV_CLIENT_ID, client_id),
            ("--client-secret", ENV_CLIENT_SECRET, client_secret),
        )
        if not value
    ]
    if missing or not (endpoint and workspace_url and client_id and client_secret):
        raise click.UsageError("missing " + ", ".join(missing))
    try:
        zerobus_endpoint = parse_endpoint(endpoint, "--endpoint")
        if tls is not None:
            zerobus_endpoint = zerobus_endpoint.with_tls(tls)
        return DoctorSettings(
            endpoint=zerobus_endpoint,
            workspace=parse_endpoint(workspace_url, "--workspace-url"),
            table=parse_table_name(table),
            client_id=client_id,
            client_secret=client_secret,
            root_certificates=load_root_certificates(root_certificates),
            generated=generated,
        )
    except ZerobusException as error:
        raise click.UsageError(error.message) from error
