"""The official SDK 1.10's federated path (``auth=FederatedToken``) against our server's token exchange.

Also pins what it sends (logged by the server): the token-exchange form carries the same
table-scoped ``resource`` and ``authorization_details`` as client credentials, ``client_id`` only
for workload identity federation, and no HTTP Basic credentials.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.official_sdk import (
    OFFICIAL_CWD,
    official_command,
    official_env,
    require_official_sdk_python,
    run_official,
)
from zerobus.server import LocalZerobusServer
from zerobus.server.identity.dev_idp import DEV_IDP_ISSUER
from zerobus.server.identity.token_exchange import FederationPolicy

pytestmark = pytest.mark.official_sdk

SCRIPT = Path(__file__).with_name("official_federated_script.py")
EXCHANGE_LOGGER = "zerobus.server.identity.token_exchange"


def _run(server: LocalZerobusServer, table: str, **extra: Any) -> dict[str, Any]:
    args = {
        "endpoint": server.grpc_endpoint,
        "workspace_url": server.workspace_url,
        "table": table,
        "idp_url": server.workspace_url + "/dev-idp/token",
        "subject": server.client_id,
        "streams": 2,
        "records": 3,
        **extra,
    }
    result = run_official(require_official_sdk_python(), str(SCRIPT), stdin=json.dumps(args) + "\n")
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _exchange_fields(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = [r for r in caplog.records if r.name == EXCHANGE_LOGGER]
    assert records, "the server saw no token exchange"
    return list(records[-1].args[0])  # type: ignore[index]


@pytest.mark.parametrize("driver", ["sync", "aio"])
def test_official_sdk_ingests_over_a_federated_token(
    zerobus_server: LocalZerobusServer, zerobus_table: Any, caplog: pytest.LogCaptureFixture, driver: str
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    with caplog.at_level(logging.INFO, logger=EXCHANGE_LOGGER):
        result = _run(zerobus_server, table, driver=driver)
    assert result.get("offsets") == [0, 1, 2, 0, 1, 2], result
    assert result["supplier_calls"] == 1  # the exchanged token is cached across its streams
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == list(range(6))
    assert _exchange_fields(caplog) == [
        "authorization_details",
        "grant_type",
        "resource",
        "scope",
        "subject_token",
        "subject_token_type",
    ]


def test_official_sdk_workload_identity_federation_sends_client_id(
    zerobus_server: LocalZerobusServer, zerobus_table: Any, caplog: pytest.LogCaptureFixture
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    subject = f"official-workload-{table}"
    zerobus_server.add_federation_policy(
        FederationPolicy(DEV_IDP_ISSUER, subject, client_id=zerobus_server.client_id)
    )
    with caplog.at_level(logging.INFO, logger=EXCHANGE_LOGGER):
        result = _run(zerobus_server, table, subject=subject, client_id=zerobus_server.client_id, streams=1)
    assert result.get("offsets") == [0, 1, 2], result
    assert "client_id" in _exchange_fields(caplog)
    assert len(zerobus_server.rows(table)) == 3


def test_official_sdk_reports_an_expired_idp_token(
    zerobus_server: LocalZerobusServer, zerobus_table: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    monkeypatch.setattr(zerobus_server.core.idp, "clock", lambda: time.time() - 7200)
    expired = zerobus_server.idp_token(lifetime_s=3600)
    monkeypatch.undo()
    result = _run(zerobus_server, table, expired_idp_token=expired, streams=1)
    assert "invalid_grant" in result["error"] and "subject_token expired" in result["error"]
    assert zerobus_server.rows(table) == []


def test_official_sdk_exchanges_afresh_when_its_cached_token_is_refused(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    """Observed: 1.10 retries a creation refused with UNAUTHENTICATED after a new exchange, as we do."""
    table = zerobus_table("id BIGINT NOT NULL, name STRING")
    args = {
        "endpoint": zerobus_server.grpc_endpoint,
        "workspace_url": zerobus_server.workspace_url,
        "table": table,
        "idp_url": zerobus_server.workspace_url + "/dev-idp/token",
        "subject": zerobus_server.client_id,
        "streams": 2,
        "records": 2,
        "pause_before_stream": 1,
    }
    process = subprocess.Popen(
        official_command(require_official_sdk_python(), str(SCRIPT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=OFFICIAL_CWD,
        env=official_env(),
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(args) + "\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "PAUSED"
        zerobus_server.expire_tokens()  # the official client's cached exchanged token is now refused
        output, errors = process.communicate("\n", timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors[-4000:]
    result = json.loads(output.strip().splitlines()[-1])
    assert result == {"offsets": [0, 1, 0, 1], "supplier_calls": 2}
    assert sorted(row["id"] for row in zerobus_server.rows(table)) == [0, 1, 2, 3]
