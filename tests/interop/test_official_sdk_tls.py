"""The official Databricks SDK (Rust core: tonic and reqwest over rustls) against our TLS server.

The official 1.10 client has no option for custom root certificates (its public API has only
`set_use_tls`); its Rust core loads the platform's trust store through rustls-native-certs,
which reads ``SSL_CERT_FILE`` instead when it is set. That one variable makes both its gRPC
channel and its OAuth calls trust the emulator's CA.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.official_sdk import (
    OFFICIAL_CWD,
    official_command,
    official_env,
    require_official_sdk_python,
)
from zerobus.server import LocalZerobusServer

pytestmark = pytest.mark.official_sdk

SCRIPT = Path(__file__).with_name("official_client_script.py")


def _run_official_with(
    python: Path, args: dict[str, Any], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        official_command(python, str(SCRIPT)),
        input=json.dumps(args),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=OFFICIAL_CWD,
        env=official_env() | env,
    )


def test_official_sdk_ingests_over_tls_trusting_the_ca_through_ssl_cert_file(
    zerobus_tls_server: LocalZerobusServer,
) -> None:
    python = require_official_sdk_python()
    server = zerobus_tls_server
    table = "main.tls.official"
    server.create_table(table, "id BIGINT NOT NULL, name STRING")
    try:
        args = {
            "endpoint": server.grpc_endpoint,  # https://
            "workspace_url": server.workspace_url,  # https://
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "json_table": table,
            "json_records": [{"id": i, "name": f"o{i}"} for i in range(3)],
            "json_batch": [{"id": 10 + i} for i in range(5)],
        }
        result = _run_official_with(python, args, {"SSL_CERT_FILE": str(server.ca_file)})
        assert result.returncode == 0, result.stderr[-4000:]
        assert json.loads(result.stdout.strip().splitlines()[-1]) == {"json_offsets": [0, 1, 2, 3]}
        rows = server.rows(table)
        assert [row["id"] for row in rows] == [0, 1, 2, *range(10, 15)]
        assert rows[0] == {"id": 0, "name": "o0"}
    finally:
        server.drop_table(table)
