"""``zerobus-ingest``: CSV, JSON lines and Parquet files into a Delta table through Zerobus.

    zerobus-ingest readings.csv more.parquet --table main.default.air_quality --dead-letter refused.jsonl

A thin adapter over `zerobus.ingest.ingest_files`: options in, a summary and an exit status
out (`failures.ExitCode`, listed in ``--help``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from zerobus import __version__
from zerobus.errors import ZerobusException
from zerobus.ingest.failures import EXIT_CODES_HELP, ExitCode, classify
from zerobus.ingest.formats import FileFormat
from zerobus.ingest.interrupt import StopRequest
from zerobus.ingest.report import RunReport
from zerobus.ingest.run import DEFAULT_BATCH_ROWS, IngestSettings, Workspace, ingest_files

__all__ = ["main"]

ENV_ENDPOINT = "ZEROBUS_SERVER_ENDPOINT"
ENV_HOST = "DATABRICKS_HOST"
ENV_CLIENT_ID = "DATABRICKS_CLIENT_ID"
ENV_CLIENT_SECRET = "DATABRICKS_CLIENT_SECRET"


def _fail(code: ExitCode, message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _required(value: str | None, flag: str, variable: str) -> str:
    if not value:
        raise click.UsageError(f"no {flag[2:].replace('-', ' ')}: pass {flag} or set {variable}")
    return value


def _say_stopping() -> None:
    """At the first Ctrl-C, from the signal handler: an unbuffered write cannot re-enter a stream."""
    os.write(sys.stderr.fileno(), b"\nstopping: landing the rows read so far (Ctrl-C again: stop waiting)\n")


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _summary(report: RunReport) -> None:
    for file in report.files:
        refused = f", {file.refused:,} refused" if file.refused else ""
        click.echo(f"{file.path} ({file.format}): {_rows(file.rows)} read{refused}")
    if report.interrupted:
        last = report.files[-1] if report.files else None
        if last is not None and not last.read_to_end:
            click.echo(
                f"interrupted: stopped reading {last.path} after {last.position_key} {last.last_position}"
            )
        else:
            click.echo("interrupted while waiting for acknowledgements: every row read was sent")
    click.echo(
        f"{_rows(report.landed)} landed in {report.table} in {report.seconds:.1f} s "
        f"({report.rows_per_s:,.0f} rows/s)"
    )
    if report.sent > report.landed:
        click.echo(f"{_rows(report.sent - report.landed)} sent but not acknowledged")
    if report.refused:
        click.echo(f"{_rows(report.refused)} refused, written to {report.dead_letter}")


def _exit_status(report: RunReport) -> ExitCode:
    if report.failure is not None:
        code, message = classify(report.failure)
        click.echo(f"error: {message}", err=True)
        return code
    if report.interrupted:
        return ExitCode.INTERRUPTED
    if report.refused:
        return ExitCode.DEAD_LETTERS
    return ExitCode.OK


@click.command(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, allow_dash=True)
)
@click.option("--table", "-t", required=True, help="Target table: catalog.schema.table.")
@click.option(
    "--format",
    "forced_format",
    type=click.Choice([f.value for f in FileFormat]),
    help="Read every FILE as this format (default: by extension, else by content).",
)
@click.option(
    "--dead-letter",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append each refused row to this JSON lines file (file, line or row, record, field, reason) "
    "and go on. Without it, the first refused row stops the run.",
)
@click.option(
    "--timestamp-unit",
    type=click.Choice(["s", "ms", "us", "ns"]),
    help="Unit of integers given for TIMESTAMP columns (default: microseconds, refusing integers "
    "sized like another unit).",
)
@click.option("--delimiter", help="CSV field delimiter (default: comma; tab for .tsv files).")
@click.option(
    "--batch-rows",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_BATCH_ROWS,
    show_default=True,
    help="Rows per ingest call.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on standard error (default: when standard error is a terminal).",
)
@click.option("--endpoint", envvar=ENV_ENDPOINT, show_envvar=True, help="Zerobus endpoint.")
@click.option("--host", envvar=ENV_HOST, show_envvar=True, help="Workspace URL (OAuth, Unity Catalog).")
@click.option(
    "--client-id", envvar=ENV_CLIENT_ID, show_envvar=True, help="OAuth client (service principal) id."
)
@click.option("--client-secret", envvar=ENV_CLIENT_SECRET, show_envvar=True, help="OAuth client secret.")
@click.option("-v", "--verbose", is_flag=True, help="Log what the SDK does (connections, recoveries).")
@click.version_option(__version__, prog_name="zerobus-ingest")
def main(
    files: tuple[str, ...],
    table: str,
    forced_format: str | None,
    dead_letter: Path | None,
    timestamp_unit: str | None,
    delimiter: str | None,
    batch_rows: int,
    progress: bool | None,
    endpoint: str | None,
    host: str | None,
    client_id: str | None,
    client_secret: str | None,
    verbose: bool,
) -> None:
    """Ingest FILE... (CSV, JSON lines, Parquet; - is standard input) into table --table.

    Rows are checked against the table's schema as they are read; every row sent is
    acknowledged before the summary is printed. Ctrl-C stops reading, lands the rows read so
    far and says how many landed (press it again to stop waiting).
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.CRITICAL, format="%(levelname)s %(name)s: %(message)s"
    )
    if delimiter is not None and len(delimiter) != 1:
        raise click.BadParameter(f"must be one character, got {delimiter!r}", param_hint="--delimiter")
    workspace = Workspace(
        _required(endpoint, "--endpoint", ENV_ENDPOINT),
        _required(host, "--host", ENV_HOST),
        _required(client_id, "--client-id", ENV_CLIENT_ID),
        _required(client_secret, "--client-secret", ENV_CLIENT_SECRET),
    )
    settings = IngestSettings(
        table=table,
        paths=files,
        forced_format=FileFormat(forced_format) if forced_format else None,
        dead_letter=dead_letter,
        timestamp_unit=timestamp_unit,  # type: ignore[arg-type]
        delimiter=delimiter,
        batch_rows=batch_rows,
        progress=sys.stderr.isatty() if progress is None else progress,
    )
    try:
        report = ingest_files(settings, workspace, StopRequest(_say_stopping))
    except ZerobusException as error:
        _fail(*classify(error))
    except KeyboardInterrupt:
        _fail(ExitCode.INTERRUPTED, "interrupted: stopped without waiting for acknowledgements")
    _summary(report)
    sys.exit(_exit_status(report))


if __name__ == "__main__":  # pragma: no cover
    main()
