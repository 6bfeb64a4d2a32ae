"""Every example of the official SDK 1.10's README runs on this SDK, against the local server.

The README is read from the official package's metadata in its own venv, so the test follows
what users copy from PyPI. Each ```python block runs as written, adapted only where the README
leaves a value to the reader: the endpoint, the workspace URL, the credentials (client id and
secret, the IdP token a `get_idp_token` returns, a service principal's id) and the table name.
A fragment runs with what the README's text around it assumes already exists (`sdk`,
`table_properties`, `stream`, `record`, `records`, `other_table`, `MyMessage`, `json_schema`):
made here, on the same local server. An ``async def`` a block only defines is called, on an
asyncio stream. The bash block that generates a .proto from Unity Catalog runs too.

(tests/sdk/test_official_readme_examples.py runs the four complete examples in subprocesses and
checks their rows one by one.)
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.official_sdk import official_sdk_python
from zerobus.sdk import aio, sync
from zerobus.sdk.shared import TableProperties

pytestmark = pytest.mark.official_sdk

TABLE_DDL = "device_name STRING, temp INT, humidity BIGINT"
RECORD_PROTO = """syntax = "proto2";

message AirQuality {
    optional string device_name = 1;
    optional int32 temp = 2;
    optional int64 humidity = 3;
}
"""
AVRO_SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "AirQuality",
        "fields": [
            {"name": "device_name", "type": ["null", "string"]},
            {"name": "temp", "type": ["null", "int"]},
            {"name": "humidity", "type": ["null", "long"]},
        ],
    }
)
# Values the README leaves to the reader, written as it writes them.
ENDPOINTS = re.compile(r'"https://(?:[0-9]+\.zerobus\.[^"]+|<workspace>\.zerobus\.[^"]+)"')
WORKSPACES = re.compile(r'"https://(?:dbc-[^"]+|<workspace-host>)"')
TABLE_NAMES = re.compile(r'"(?:main\.default\.air_quality|catalog\.schema\.table)"')
IDP_SUPPLIER_BODY = re.compile(r"(def get_idp_token\(\):\n(?:    #.*\n)*)    \.\.\.\n")


def _readme() -> str | None:
    python, _why = official_sdk_python()
    if python is None:
        return None
    found = list(
        python.parent.parent.glob("lib/python*/site-packages/databricks_zerobus_ingest_sdk-*/METADATA")
    )
    return found[0].read_text() if found else None


def _blocks(language: str) -> list[str]:
    readme = _readme()
    return [] if readme is None else re.findall(rf"```{language}\n(.*?)```", readme, re.S)


PYTHON_BLOCKS = _blocks("python")


def _block_id(code: str) -> str:
    first = next(line for line in code.splitlines() if line.strip() and not line.startswith("#"))
    return re.sub(r"\W+", "-", first.strip())[:40].strip("-")


class Reader:
    """What the README's reader fills in and what its fragments assume, on the local server."""

    def __init__(self, server: Any, table: str, other: str, pb2: ModuleType) -> None:
        self.server = server
        self.table = table
        self.other = other
        self.pb2 = pb2

    def adapt(self, code: str) -> str:
        server = self.server
        code = ENDPOINTS.sub(repr(server.grpc_endpoint), code)
        code = WORKSPACES.sub(repr(server.workspace_url), code)
        code = TABLE_NAMES.sub(repr(self.table), code)
        code = code.replace('"your-client-id"', repr(server.client_id))
        code = code.replace('"your-client-secret"', repr(server.client_secret))
        code = code.replace('"<sp-client-id>"', repr(server.client_id))
        return IDP_SUPPLIER_BODY.sub(r"\1    return idp_token()\n", code)

    def record(self) -> dict[str, Any]:
        return {"device_name": "sensor-1", "temp": 21, "humidity": 55}

    def namespace(self, sdk: sync.ZerobusSdk, stream: Any) -> dict[str, Any]:
        server = self.server
        return {
            "__name__": "official_readme_example",
            "server_endpoint": server.grpc_endpoint,
            "workspace_url": server.workspace_url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
            "idp_token": server.idp_token,
            "ZerobusSdk": sync.ZerobusSdk,
            "TableProperties": TableProperties,
            "sdk": sdk,
            "table_properties": TableProperties(self.table),
            "other_table": TableProperties(self.other),
            "stream": stream,
            "record": self.record(),
            "records": [self.record() for _ in range(3)],
            "MyMessage": self.pb2.AirQuality,
            "json_schema": AVRO_SCHEMA,
        }

    async def call(self, function: Any, filename: str) -> None:
        """An ``async def`` the block only defined, called with an asyncio SDK's stream and values."""
        server = self.server
        sdk = aio.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
        stream = await sdk.create_stream(server.client_id, server.client_secret, TableProperties(self.table))
        values = {"sdk": sdk, "stream": stream, "record": self.record(), "records": [self.record()] * 3}
        try:
            result = await function(*(values[name] for name in inspect.signature(function).parameters))
            if isinstance(result, aio.ZerobusStream):
                await result.close()
        finally:
            await stream.close()
            await sdk.close()


@pytest.fixture
def record_pb2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """`record_pb2`, compiled from the README's record.proto as its reader does."""
    from grpc_tools import protoc

    (tmp_path / "record.proto").write_text(RECORD_PROTO)
    assert protoc.main(["protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", "record.proto"]) == 0
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("record_pb2", None)
    import record_pb2  # type: ignore[import-not-found]

    yield record_pb2
    sys.modules.pop("record_pb2", None)


@pytest.fixture
def reader(zerobus_server: Any, zerobus_table: Any, record_pb2: ModuleType) -> Reader:
    from zerobus.server.identity.dev_idp import DEV_IDP_AUDIENCE, DEV_IDP_ISSUER
    from zerobus.server.identity.token_exchange import FederationPolicy

    server = zerobus_server
    # Workload identity federation (the README's second FederatedToken) trusts the IdP's
    # token for the development principal.
    server.add_federation_policy(
        FederationPolicy(DEV_IDP_ISSUER, server.client_id, (DEV_IDP_AUDIENCE,), client_id=server.client_id)
    )
    return Reader(server, zerobus_table(TABLE_DDL), zerobus_table(TABLE_DDL), record_pb2)


def test_the_official_readme_was_read() -> None:
    if not PYTHON_BLOCKS:
        pytest.skip("the official SDK 1.10 is not installed (tests/support/official_sdk.py)")
    assert len(PYTHON_BLOCKS) >= 15


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[_block_id(code) for code in PYTHON_BLOCKS])
def test_official_readme_python_block_runs(code: str, reader: Reader) -> None:
    server = reader.server
    sdk = sync.ZerobusSdk(server.grpc_endpoint, server.workspace_url)
    stream = sdk.create_stream(server.client_id, server.client_secret, TableProperties(reader.table))
    if "get_unacked" in code and "ingest" not in code and "# Sync" not in code:
        stream.close()  # "after the stream closes", as the README's text says
    filename = f"<official README: {_block_id(code)}>"
    namespace = reader.namespace(sdk, stream)
    before = set(namespace)
    try:
        exec(compile(reader.adapt(code), filename, "exec"), namespace)
        for name in set(namespace) - before:
            value = namespace[name]
            if inspect.iscoroutinefunction(value) and value.__code__.co_filename == filename:
                asyncio.run(reader.call(value, filename))
    finally:
        for value in namespace.values():
            if isinstance(value, sync.ZerobusStream):
                value.close()
        for value in namespace.values():
            if isinstance(value, sync.ZerobusSdk):
                value.close()
    if re.search(r"ingest_records?_offset\(", code):
        assert server.wait_for_rows(reader.table) > 0


def test_official_readme_generate_proto_command_runs(reader: Reader, tmp_path: Path) -> None:
    """The README's `python -m zerobus.tools.generate_proto ...`, then protoc, as written."""
    commands = [block for block in _blocks("bash") if "zerobus.tools.generate_proto" in block]
    if not commands:
        pytest.skip("the official SDK 1.10 is not installed (tests/support/official_sdk.py)")
    server = reader.server
    for line in reader.adapt(commands[0]).replace("\\\n", " ").splitlines():
        if not line.startswith("python -m"):
            continue
        argv = [sys.executable, *shlex.split(line)[1:]]
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    proto = (tmp_path / "record.proto").read_text()
    assert "message AirQuality" in proto and "device_name" in proto
    assert (tmp_path / "record_pb2.py").exists()
    assert server.table_schema(reader.table) is not None


def test_what_the_official_smoke_tests_check_holds_here() -> None:
    """The public behaviour the official package's smoke tests check, checked on ours."""
    import zerobus
    import zerobus.sdk
    from zerobus.sdk.shared import RecordType, StreamConfigurationOptions
    from zerobus.sdk.shared.headers_provider import HeadersProvider

    assert issubclass(zerobus.NonRetriableException, zerobus.ZerobusException)
    assert (RecordType.PROTO.value, int(RecordType.JSON)) == (1, 2)
    assert RecordType.PROTO == RecordType.PROTO and RecordType.PROTO != RecordType.JSON
    assert zerobus.sdk.ZerobusSdk is sync.ZerobusSdk
    custom = StreamConfigurationOptions(
        max_inflight_records=500,
        recovery=False,
        recovery_timeout_ms=5000,
        recovery_backoff_ms=1000,
        recovery_retries=5,
        record_type=RecordType.JSON,
    )
    assert (custom.max_inflight_records, custom.recovery, custom.recovery_retries) == (500, False, 5)
    assert custom.record_type == RecordType.JSON
    defaults = StreamConfigurationOptions()
    assert isinstance(defaults.recovery, bool) and defaults.recovery_timeout_ms > 0
    assert zerobus.TableProperties("catalog.schema.table").table_name == "catalog.schema.table"

    class Provider(HeadersProvider):
        def get_headers(self) -> list[tuple[str, str]]:
            return [("authorization", "Bearer test")]

    assert Provider().get_headers() == [("authorization", "Bearer test")]
    methods = ["ingest_record_offset", "ingest_record_nowait", "ingest_records_offset"]
    methods += ["ingest_records_nowait", "wait_for_offset", "flush", "close", "get_unacked_records"]
    for stream_class in (sync.ZerobusStream, aio.ZerobusStream):
        for name in [*methods, "ingest_record"]:
            assert callable(getattr(stream_class, name)), (stream_class, name)
    for sdk_class in (sync.ZerobusSdk, aio.ZerobusSdk):
        assert callable(sdk_class.create_stream) and callable(sdk_class.recreate_stream)
