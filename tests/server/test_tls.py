"""The emulator over TLS: HTTPS OAuth and Unity Catalog, certificate files, the CLI's `--tls`."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.tls_checks import assert_handshakes_failed
from zerobus.errors import ConfigurationError, NonRetriableException
from zerobus.oauth import fetch_metadata_token
from zerobus.schema.uc import fetch_table_json
from zerobus.sdk.shared.trust import load_root_certificates, trusting_session
from zerobus.server import LocalZerobusServer
from zerobus.server.identity.tls import CA_FILE, CERT_FILE, KEY_FILE, ensure_tls_files


def test_oauth_and_unity_catalog_over_https(
    zerobus_tls_server: LocalZerobusServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = zerobus_tls_server
    name = "main.tls.described"
    server.create_table(name, "id BIGINT NOT NULL, note STRING")
    try:
        # requests' own environment variable ...
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        token = fetch_metadata_token(server.workspace_url, server.client_id, server.client_secret)
        table = fetch_table_json(name, server.workspace_url, token=token)
        assert [column["name"] for column in table["columns"]] == ["id", "note"]
        # ... or the SDK's session, which wins over a variable naming another bundle.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.utils.DEFAULT_CA_BUNDLE_PATH)
        session = trusting_session(load_root_certificates(server.ca_file))
        table = fetch_table_json(
            name, server.workspace_url, server.client_id, server.client_secret, session=session
        )
        assert table["full_name"] == name
    finally:
        server.drop_table(name)


def test_untrusted_https_is_a_non_retriable_certificate_error(
    zerobus_tls_server: LocalZerobusServer,
) -> None:
    server = zerobus_tls_server
    failed_before = server.stats.https_handshakes_failed
    with pytest.raises(
        NonRetriableException, match=r"OAuth token request .* certificate verification failed"
    ):
        fetch_metadata_token(server.workspace_url, server.client_id, server.client_secret)
    with pytest.raises(
        NonRetriableException, match=r"Unity Catalog request .* certificate verification failed"
    ):
        fetch_table_json("main.tls.anything", server.workspace_url, token="any")
    # The metadata token behind a UC call fails the same way (not as an authorization error).
    with pytest.raises(NonRetriableException, match="certificate verification failed") as raised:
        fetch_table_json("main.tls.anything", server.workspace_url, server.client_id, server.client_secret)
    assert type(raised.value) is NonRetriableException
    assert_handshakes_failed(server, failed_before, 3)


def test_plaintext_http_to_a_tls_server_is_refused(zerobus_tls_server: LocalZerobusServer) -> None:
    plain_url = zerobus_tls_server.workspace_url.replace("https://", "http://")
    with pytest.raises(requests.ConnectionError):
        requests.post(plain_url + "/oidc/v1/token", timeout=10)


def test_a_silent_client_does_not_hold_up_other_https_connections(
    zerobus_tls_server: LocalZerobusServer,
) -> None:
    server = zerobus_tls_server
    with socket.create_connection(("127.0.0.1", server.http_port), timeout=10):
        # Connected, but never sends a ClientHello: the handshake waits in its own worker.
        token = fetch_metadata_token(
            server.workspace_url,
            server.client_id,
            server.client_secret,
            session=trusting_session(load_root_certificates(server.ca_file)),
        )
    assert token


def test_grpc_port_negotiates_h2_with_the_generated_ca(zerobus_tls_server: LocalZerobusServer) -> None:
    context = ssl.create_default_context(cafile=str(zerobus_tls_server.ca_file))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", zerobus_tls_server.grpc_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        certificate = tls.getpeercert()
    assert certificate is not None
    names = {entry[1] for entry in certificate["subjectAltName"]}
    assert {"localhost", "127.0.0.1"} <= names


def test_tls_files_are_reused_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalZerobusServer(data_dir=data_dir, tls=True) as server:
        first_ca = server.ca_file.read_bytes()
        assert server.ca_file == data_dir / "tls" / CA_FILE
        assert (server.ca_file.parent / KEY_FILE).stat().st_mode & 0o077 == 0  # the key is private
    with LocalZerobusServer(data_dir=data_dir, tls=True) as server:
        assert server.ca_file.read_bytes() == first_ca


def test_incomplete_tls_dir_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    files = ensure_tls_files(tmp_path / "tls", ["localhost"])
    files.key_file.unlink()
    with pytest.raises(ConfigurationError, match=f"not {KEY_FILE}"):
        LocalZerobusServer(tls=True, tls_dir=files.ca_file.parent).start()
    files.cert_file.write_text("garbage")
    files.key_file.write_text("garbage")
    with pytest.raises(ConfigurationError, match=CERT_FILE):
        LocalZerobusServer(tls=True, tls_dir=files.ca_file.parent).start()


def test_tls_dir_needs_tls(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="tls_dir"):
        LocalZerobusServer(tls_dir=tmp_path)


def test_server_without_tls_has_no_ca(zerobus_server: LocalZerobusServer) -> None:
    assert zerobus_server.grpc_endpoint.startswith("http://") and not zerobus_server.tls
    with pytest.raises(RuntimeError, match="tls=True"):
        _ = zerobus_server.ca_file


def test_cli_start_tls_prints_the_ca_and_how_to_trust_it(tmp_path: Path) -> None:
    ready, tls_dir = tmp_path / "ready.json", tmp_path / "certs"
    command = [
        sys.executable, "-m", "zerobus.server.cli", "start", "--in-memory",
        "--grpc-port", "0", "--http-port", "0", "--ready-file", str(ready),
        "--tls", "--tls-dir", str(tls_dir),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"emulator did not start: {process.communicate()[1][-2000:]}")
            time.sleep(0.05)
        assert process.stdout is not None
        banner: list[str] = []
        while not banner or "Press Ctrl-C" not in banner[-1]:
            banner.append(process.stdout.readline())  # printed and flushed before the ready file
        info = json.loads(ready.read_text())
        ca_file = tls_dir.resolve() / CA_FILE
        text = "".join(banner)
        assert info["ca_file"] == str(ca_file)
        assert info["grpc_endpoint"].startswith("https://") and info["workspace_url"].startswith("https://")
        assert f"export ZEROBUS_SERVER_ENDPOINT={info['grpc_endpoint']}" in text
        assert f"export GRPC_DEFAULT_SSL_ROOTS_FILE_PATH={ca_file}" in text
        assert f"export REQUESTS_CA_BUNDLE={ca_file}" in text
        assert f"export SSL_CERT_FILE={ca_file}" in text
        assert f"root_certificates='{ca_file}'" in text
        # It serves HTTPS, verified against the printed CA.
        response = requests.post(
            info["workspace_url"] + "/oidc/v1/token",
            data={"grant_type": "client_credentials", "scope": "all-apis"},
            auth=(info["client_id"], info["client_secret"]),
            verify=str(ca_file),
            timeout=10,
        )
        assert response.status_code == 200 and response.json()["access_token"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    assert process.returncode == 0


def test_cli_tls_dir_without_tls_is_a_usage_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zerobus.server.cli import main

    result = CliRunner().invoke(main, ["start", "--in-memory", "--tls-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--tls-dir needs --tls" in result.output
