"""`zerobus-quickstart`: the project's main job in one command.

Starts the local Zerobus server (or uses the one the environment names), creates the
``main.default.air_quality`` table, generates its Pydantic model with the codegen library (what
``zerobus-codegen table`` writes), ingests records through the SDK with a progress bar, waits
for every acknowledgement, and prints how many rows the Delta table holds, where it lives and a
few of them. Running it again appends another batch to the same table.

Environment (all optional; without them a local server is started in ``--data-dir``):
``ZEROBUS_SERVER_ENDPOINT``, ``DATABRICKS_HOST``, ``DATABRICKS_CLIENT_ID``,
``DATABRICKS_CLIENT_SECRET``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import importlib.util
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import requests

from zerobus import __version__
from zerobus.codegen import ZerobusModel, generate, load_schema, schema_from_ddl, write_files
from zerobus.endpoints import parse_endpoint
from zerobus.errors import ZerobusException
from zerobus.oauth import fetch_metadata_token
from zerobus.protocol.constants import UC_TABLES_PATH

__all__ = ["AIR_QUALITY_DDL", "Target", "main", "run"]

TABLE = "main.default.air_quality"
AIR_QUALITY_DDL = (
    "device_name STRING NOT NULL COMMENT 'sensor that took the reading', "
    "temp INT COMMENT 'degrees Celsius', "
    "humidity BIGINT, "
    "pm25 DOUBLE COMMENT 'fine particles, ug/m3', "
    "measured_at TIMESTAMP NOT NULL, "
    "reading_date DATE, "
    "location STRUCT<lat: DOUBLE, lon: DOUBLE>, "
    "tags MAP<STRING, STRING>, "
    "calibration DECIMAL(6,3)"
)
ENV_ENDPOINT = "ZEROBUS_SERVER_ENDPOINT"
ENV_HOST = "DATABRICKS_HOST"
ENV_CLIENT_ID = "DATABRICKS_CLIENT_ID"
ENV_CLIENT_SECRET = "DATABRICKS_CLIENT_SECRET"


@dataclass(frozen=True)
class Target:
    """Where records go: a Zerobus endpoint, its workspace (OAuth + Unity Catalog), credentials."""

    server_endpoint: str
    workspace_url: str
    client_id: str
    client_secret: str

    @property
    def is_local(self) -> bool:
        return parse_endpoint(self.workspace_url).is_loopback


@contextlib.contextmanager
def open_target(data_dir: Path, echo: Callable[[str], None]) -> Iterator[Target]:
    """The environment's server when it names one, else a local server in a process of its own."""
    endpoint, host = os.environ.get(ENV_ENDPOINT), os.environ.get(ENV_HOST)
    if endpoint and host:
        client_id, secret = os.environ.get(ENV_CLIENT_ID), os.environ.get(ENV_CLIENT_SECRET)
        if not client_id or not secret:
            raise click.UsageError(f"{ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} must be set with {ENV_ENDPOINT}")
        echo(f"Using the Zerobus endpoint {endpoint} (workspace {host}) from the environment")
        yield Target(endpoint, host, client_id, secret)
        return
    from zerobus.quickstart_server import emulator_process

    with emulator_process(data_dir, materialize_delay_s=1.0) as server:
        echo(
            f"Started a local Zerobus emulator in its own process: gRPC {server.grpc_endpoint}, "
            f"workspace {server.workspace_url}"
        )
        echo(f"  data directory: {data_dir.resolve()}")
        yield Target(server.grpc_endpoint, server.workspace_url, server.client_id, server.client_secret)


def _metadata_session(target: Target) -> tuple[requests.Session, str]:
    token = fetch_metadata_token(target.workspace_url, target.client_id, target.client_secret)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return session, target.workspace_url.rstrip("/") + UC_TABLES_PATH


def ensure_table(target: Target, echo: Callable[[str], None]) -> dict[str, Any]:
    """Return the table's Unity Catalog entry, creating it first on a local server."""
    session, tables_url = _metadata_session(target)
    response = session.get(f"{tables_url}/{TABLE}", timeout=30)
    if response.status_code == 404 and target.is_local:
        catalog, schema_name, name = TABLE.split(".")
        columns = [column.to_uc_json() for column in schema_from_ddl(AIR_QUALITY_DDL, TABLE).columns]
        body = {"catalog_name": catalog, "schema_name": schema_name, "name": name, "columns": columns}
        created = session.post(tables_url, json=body, timeout=30)
        if created.status_code >= 400:
            raise ZerobusException(f"creating {TABLE} failed: HTTP {created.status_code} {created.text}")
        echo(f"Created table {TABLE}")
        response = session.get(f"{tables_url}/{TABLE}", timeout=30)
    if response.status_code == 404:
        raise ZerobusException(
            f"table {TABLE} does not exist in {target.workspace_url}; create it with these columns: {AIR_QUALITY_DDL}"
        )
    response.raise_for_status()
    table: dict[str, Any] = response.json()
    return table


def generate_model(target: Target, out_dir: Path, echo: Callable[[str], None]) -> type[ZerobusModel]:
    """What `zerobus-codegen table main.default.air_quality --out-dir DIR` does, then import it."""
    schema = load_schema(
        TABLE, host=target.workspace_url, client_id=target.client_id, client_secret=target.client_secret
    )
    files = generate(schema, out_dir)
    write_files(files)
    echo("Generated " + ", ".join(str(f.path) for f in files))
    model_file = next(f.path for f in files if f.kind == "models")
    module = _import_file(model_file)
    model: type[ZerobusModel] = module.AirQuality
    return model


def _import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ZerobusException(f"cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_records(model: type[ZerobusModel], count: int, seed: int) -> Iterator[ZerobusModel]:
    """Plausible air-quality readings from 20 sensors, one a second up to now."""
    rng = random.Random(seed)
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(seconds=count)
    # What each sensor always reports, made once (the model copies what it validates).
    sensors = [
        (
            f"sensor-{sensor:02d}",
            {"lat": 52.0 + sensor / 100, "lon": 4.0 + sensor / 100},
            {"site": f"site-{sensor % 4}", "firmware": "1.4.2"},
        )
        for sensor in range(20)
    ]
    one_second = dt.timedelta(seconds=1)
    measured = start
    for index in range(count):
        name, location, tags = sensors[index % 20]
        yield model.model_validate(
            {
                "device_name": name,
                "temp": rng.randint(-10, 40),
                "humidity": rng.randint(10, 95),
                "pm25": round(rng.uniform(1.0, 80.0), 2),
                "measured_at": measured,
                "reading_date": measured.date(),
                "location": location,
                "tags": tags,
                "calibration": decimal.Decimal(rng.randint(-999, 999)).scaleb(-3),
            }
        )
        measured += one_second


PROGRESS_CHUNK = 2000  # records per submission and per progress bar update (not per record)


def ingest(target: Target, records: Sequence[ZerobusModel], progress: bool) -> float:
    """Ingest the prepared `records`, wait for all acknowledgements; returns the seconds it took.

    The clock covers the stream's creation, every ingest call and the final flush: the whole
    path from a validated model to a durable, acknowledged record.
    """
    from zerobus.sdk.sync import TableProperties, ZerobusSdk

    count = len(records)
    properties = TableProperties(TABLE, type(records[0]))
    bar = _progress_bar(count, progress)
    started = time.perf_counter()
    with (
        ZerobusSdk(target.server_endpoint, target.workspace_url) as sdk,
        sdk.create_stream(target.client_id, target.client_secret, properties) as stream,
    ):
        for chunk_start in range(0, count, PROGRESS_CHUNK):
            chunk_end = min(chunk_start + PROGRESS_CHUNK, count)
            stream.ingest_records_offset(records[chunk_start:chunk_end])
            bar(chunk_end)
        stream.flush()
    return time.perf_counter() - started


def _progress_bar(total: int, enabled: bool) -> Callable[[int], None]:
    if not enabled:
        return lambda done: None
    try:
        from tqdm import tqdm
    except ImportError:  # the [quickstart] extra brings tqdm; without it, plain lines
        return lambda done: (
            print(f"  ingested {done}/{total}") if done % 20000 == 0 or done == total else None
        )
    bar = tqdm(total=total, unit="rec", desc="ingesting", file=sys.stdout)
    shown = [0]

    def update(done: int) -> None:
        bar.update(done - shown[0])
        shown[0] = done
        if done == total:
            bar.close()

    return update


def read_back(target: Target, table: dict[str, Any], expected_at_least: int, timeout_s: float = 60.0) -> Any:
    """The Delta table as a pyarrow Table, once it holds at least `expected_at_least` rows."""
    from zerobus.server.storage.delta_read import open_dataset

    location = str(table["storage_location"])
    deadline = time.monotonic() + timeout_s
    # The server materialises within its delay, in its own process; until its first commit there
    # is no Delta table at all.
    while _count_rows(location) < expected_at_least and time.monotonic() < deadline:
        time.sleep(0.2)
    return open_dataset(location).to_table()


def _count_rows(location: str) -> int:
    from zerobus.server.storage.delta_read import open_dataset

    try:
        return int(open_dataset(location).count_rows())
    except Exception:  # no Delta table yet: nothing was materialised so far
        return 0


def run(records: int, data_dir: Path, progress: bool = True, seed: int = 7) -> int:
    """The whole job; returns the number of rows the Delta table holds afterwards."""
    echo = click.echo
    with open_target(data_dir, echo) as target:
        table = ensure_table(target, echo)
        before = _count_rows(str(table["storage_location"]))
        model = generate_model(target, data_dir / "generated", echo)
        prepared_at = time.perf_counter()
        readings = list(make_records(model, records, seed))
        echo(
            f"Prepared {records:,} readings as validated {model.__name__} models in {time.perf_counter() - prepared_at:.1f} s"
        )
        echo(f"Ingesting {records:,} records into {TABLE} ...")
        seconds = ingest(target, readings, progress)
        echo(f"All {records:,} records acknowledged in {seconds:.1f} s ({records / seconds:,.0f} records/s)")
        rows = read_back(target, table, before + records)
    echo(f"The Delta table {TABLE} holds {rows.num_rows:,} rows (this run added {rows.num_rows - before:,}).")
    echo(f"  location: {table['storage_location']}")
    echo("  the latest readings:")
    for row in rows.sort_by([("measured_at", "descending")]).slice(0, 3).to_pylist():
        echo("    " + _format_row(row))
    return int(rows.num_rows)


def _format_row(row: dict[str, Any]) -> str:
    return ", ".join(f"{name}={_format_value(value)}" for name, value in row.items())


def _format_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, decimal.Decimal)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, tuple) for item in value):
        return dict(value)  # arrow hands maps back as (key, value) pairs
    return value


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Environment: with ZEROBUS_SERVER_ENDPOINT and DATABRICKS_HOST set (and "
    "DATABRICKS_CLIENT_ID, DATABRICKS_CLIENT_SECRET), it ingests into that server instead of "
    "starting a local one.",
)
@click.version_option(__version__, prog_name="zerobus-quickstart")
@click.option(
    "--records", default=100_000, show_default=True, type=click.IntRange(min=1), help="How many records."
)
@click.option(
    "--data-dir",
    default="zerobus-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Local server data (catalog, log, Delta tables) and the generated model.",
)
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def main(records: int, data_dir: Path, progress: bool) -> None:
    """Ingest air-quality readings into a Delta table through Zerobus, locally, in one command."""
    try:
        run(records, data_dir, progress)
    except ZerobusException as error:
        raise click.ClickException(str(error)) from error
