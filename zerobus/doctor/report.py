"""Internal: The checks in order, each skipped when one it depends on failed, and the exit status they give."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from zerobus.doctor.account import check_drift, check_grants, check_table, check_token
from zerobus.doctor.network import check_reachable, check_tls, check_workspace
from zerobus.doctor.results import CheckResult, Outcome, skipped
from zerobus.endpoints import Endpoint, TableName
from zerobus.sdk.shared.trust import RootCertificates, trusting_session

__all__ = ["EXIT_CODES", "CheckResult", "DoctorSettings", "exit_status", "run_checks"]

# The first failing check decides the exit status; 0 only when none failed.
EXIT_CODES: dict[str, int] = {
    "endpoint reachable": 3,
    "TLS as configured": 4,
    "workspace URL answers": 5,
    "token can be minted": 6,
    "grants on the table": 7,
    "table exists": 8,
    "generated files match the table": 9,
}


@dataclass(frozen=True)
class DoctorSettings:
    """What to check, resolved and validated (options, then the SDK's environment variables)."""

    endpoint: Endpoint
    workspace: Endpoint
    table: TableName
    client_id: str
    client_secret: str
    root_certificates: RootCertificates | None = None
    generated: Path | None = None


def run_checks(settings: DoctorSettings) -> Iterator[CheckResult]:
    """Yield each check's result as soon as it is known (the CLI prints them as they come)."""
    session = trusting_session(settings.root_certificates) or requests.Session()
    with session:
        yield from _checks(settings, session)


def _checks(settings: DoctorSettings, session: requests.Session) -> Iterator[CheckResult]:
    reachable = check_reachable(settings.endpoint)
    yield reachable
    if reachable.outcome is Outcome.OK:
        roots = settings.root_certificates.path if settings.root_certificates else None
        yield check_tls(settings.endpoint, roots)
    else:
        yield skipped("TLS as configured", "the endpoint is not reachable")
    workspace = check_workspace(settings.workspace, session)
    yield workspace
    token_result, token = (
        check_token(settings.workspace, settings.client_id, settings.client_secret, session)
        if workspace.outcome is Outcome.OK
        else (skipped("token can be minted", "the workspace URL does not answer"), None)
    )
    yield token_result
    if token is None:
        yield skipped("grants on the table", "no token")
        yield skipped("table exists", "no token")
        yield skipped("generated files match the table", "no token")
        return
    grants = check_grants(
        settings.workspace,
        settings.endpoint,
        settings.table,
        settings.client_id,
        settings.client_secret,
        session,
    )
    yield grants
    lookup = check_table(settings.workspace, settings.table, token, session, grants.outcome is Outcome.OK)
    yield lookup.result
    if settings.generated is None:
        yield skipped("generated files match the table", "no --generated PATH given")
    elif lookup.schema is None:
        yield skipped("generated files match the table", "the table's schema is not known")
    else:
        yield check_drift(lookup.schema, settings.generated)


def exit_status(results: list[CheckResult]) -> int:
    """0 when no check failed, else the code of the first failure (see `EXIT_CODES`)."""
    for result in results:
        if result.outcome is Outcome.FAIL:
            return EXIT_CODES[result.name]
    return 0
