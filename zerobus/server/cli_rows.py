"""Internal: `zerobus-emulator rows`: a table's rows as JSON lines, optionally after waiting for them.

Every line is strict JSON (RFC 8259): the server renders the floats NaN and +-infinity as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, dates and timestamps as ISO-8601,
decimals as strings and binary as base64, so any JSON parser reads the output.
"""

from __future__ import annotations

import sys
from urllib.parse import quote

import click

from zerobus.server.cli_support import EXIT_STATUS_HELP, api_call, echo_json, parse_name, with_client_options

__all__ = ["rows"]

# Rows between two progress updates on stderr.
_PROGRESS_EVERY = 10_000


@click.command(
    help="Print a table's rows (materialising acknowledged records first), one JSON object per line "
    '(NaN and infinities as the strings "NaN", "Infinity", "-Infinity").',
    epilog=EXIT_STATUS_HELP,
)
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most this many rows.")
@click.option(
    "--wait",
    "wait_for",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="First wait until the table's Delta data holds at least N rows (exit 10 after --timeout).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=3600),
    default=30.0,
    show_default=True,
    help="Seconds --wait waits at most.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Count the rows printed on stderr [default: when stderr is a terminal].",
)
@with_client_options
def rows(
    name: str,
    limit: int | None,
    wait_for: int | None,
    timeout: float,
    progress: bool | None,
    workspace_url: str,
    client_id: str,
    client_secret: str,
) -> None:
    parse_name(name)
    params: dict[str, str] = {}
    if limit is not None:
        params["limit"] = str(limit)
    if wait_for is not None:
        params["wait_for"] = str(wait_for)
        params["timeout_s"] = repr(timeout)
    body = api_call(
        "GET",
        workspace_url,
        client_id,
        client_secret,
        f"/api/2.0/zerobus-emulator/tables/{quote(name)}/rows",
        params=params or None,
        timeout=60 + (timeout if wait_for is not None else 0),
    )
    found = body["rows"]
    show = sys.stderr.isatty() if progress is None else progress
    for index, row in enumerate(found, 1):
        echo_json(row)
        if show and (index % _PROGRESS_EVERY == 0 or index == len(found)):
            click.echo(f"\r{index}/{len(found)} rows", err=True, nl=index == len(found))
