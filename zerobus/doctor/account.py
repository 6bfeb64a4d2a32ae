"""Internal: The doctor's credential and table checks: a token, the table's grants, the table, generated files.

The grant check asks for the very ingest token the SDK asks for (docs/PROTOCOL.md section 2):
the workspace refuses to mint it unless the principal holds every privilege it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests

from zerobus.doctor.results import CheckResult, failed, passed, skipped
from zerobus.endpoints import Endpoint, TableName
from zerobus.errors import ZerobusException
from zerobus.oauth import ingest_token_form, metadata_token_form, request_token
from zerobus.schema.ir import TableSchema

__all__ = ["TableLookup", "check_drift", "check_grants", "check_table", "check_token"]


def check_token(
    workspace: Endpoint, client_id: str, client_secret: str, session: requests.Session
) -> tuple[CheckResult, str | None]:
    """A plain (metadata) token is minted with the client credentials; returns it too."""
    name = "token can be minted"
    try:
        token = request_token(workspace, client_id, client_secret, metadata_token_form(), session)
    except ZerobusException as error:
        return (
            failed(
                name,
                error.message,
                "check --client-id/--client-secret (DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET): "
                "the service principal's OAuth secret",
            ),
            None,
        )
    return passed(name, f"client {client_id} got an OAuth token"), token


def check_grants(
    workspace: Endpoint,
    endpoint: Endpoint,
    table: TableName,
    client_id: str,
    client_secret: str,
    session: requests.Session,
) -> CheckResult:
    """The ingest token for the table is minted: the principal holds what writing it takes."""
    name = "grants on the table"
    form = ingest_token_form(table, endpoint.workspace_id)
    try:
        request_token(workspace, client_id, client_secret, form, session)
    except ZerobusException as error:
        return failed(
            name,
            error.message,
            f"grant {client_id} USE CATALOG on {table.catalog}, USE SCHEMA on {table.catalog}.{table.schema} "
            f"and SELECT, MODIFY on {table.full_name}",
        )
    return passed(name, f"{client_id} may write {table.full_name} (ingest token minted)")


@dataclass(frozen=True)
class TableLookup:
    """The table check's outcome and, when it passed, the table's schema (for the drift check)."""

    result: CheckResult
    schema: TableSchema | None


def check_table(
    workspace: Endpoint, table: TableName, token: str, session: requests.Session, grants_ok: bool
) -> TableLookup:
    """Unity Catalog knows the table (and its columns are ones Zerobus can write)."""
    from zerobus.codegen import load_schema
    from zerobus.schema.uc import CatalogAuthError, TableNotFoundError

    name = "table exists"
    try:
        schema = load_schema(table.full_name, host=workspace.url, token=token, session=session)
    except TableNotFoundError as error:
        return TableLookup(
            failed(name, error.message, f"create {table.full_name}, or fix --table (catalog.schema.table)"),
            None,
        )
    except CatalogAuthError as error:
        if not grants_ok:
            return TableLookup(skipped(name, "cannot be looked up without the grants above"), None)
        return TableLookup(
            failed(name, error.message, f"grant the principal SELECT on {table.full_name}"), None
        )
    except ZerobusException as error:
        return TableLookup(
            failed(name, error.message, "fix the table's definition, or the workspace URL"), None
        )
    columns = len(schema.columns)
    return TableLookup(passed(name, f"{table.full_name} ({columns} columns)"), schema)


def check_drift(schema: TableSchema, generated: Path) -> CheckResult:
    """The generated files at `generated` are what `zerobus-codegen table` writes for the table now.

    `generated` is one generated file or the directory holding them; in a directory, every file
    kind codegen writes under its default name is compared when present (at least one must be).
    """
    from zerobus.codegen.output_files import check_files, generate, output_names
    from zerobus.schema.proto_layout import layout

    name = "generated files match the table"
    directory = generated if generated.is_dir() else generated.parent
    file_names = output_names(layout(schema).name)
    if generated.is_dir():
        kinds = {kind for kind, file_name in file_names.items() if (directory / file_name).exists()}
    else:
        kinds = {kind for kind, file_name in file_names.items() if file_name == generated.name}
    if not kinds:
        expected = ", ".join(file_names.values())
        return failed(
            name,
            f"no generated file of {schema.name} at {generated} (expected one of {expected})",
            f"run zerobus-codegen table {schema.name} --out-dir {directory}, or fix --generated",
        )
    present = generate(
        schema,
        directory,
        proto="proto" in kinds,
        models="models" in kinds,
        descriptor_set="descriptor_set" in kinds,
        arrow="arrow_schema" in kinds,
        avro="avro_schema" in kinds,
    )
    drift = check_files(present)
    if drift:
        listed = ", ".join(f"{item.path.name} ({item.reason})" for item in drift)
        return failed(
            name,
            f"out of date with {schema.name}: {listed}",
            f"run zerobus-codegen table {schema.name} --out-dir {directory} (see the diff with --check)",
        )
    return passed(name, ", ".join(item.path.name for item in present) + " up to date")
