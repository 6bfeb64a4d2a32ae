"""Fixtures of the SDK tests: both drivers, the session's local server, a compiled `_pb2` module."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.sdk.drivers import AioDriver, SyncDriver
from zerobus.sdk.shared import StreamConfigurationOptions

EVENTS_DDL = "id BIGINT NOT NULL, name STRING"

# Two messages in one file, the record message second: the SDK must use the one it is given.
EVENTS_PROTO = """
syntax = "proto2";
package tests.sdk;

message Unrelated {
  optional string something_else = 1;
}

message Event {
  required int64 id = 1;
  optional string name = 2;
}
"""

FAST = {
    "recovery_backoff_ms": 50,
    "recovery_timeout_ms": 5_000,
    "flush_timeout_ms": 30_000,
    "server_lack_of_ack_timeout_ms": 5_000,
}


def fast_options(**changes: Any) -> StreamConfigurationOptions:
    """Options with short backoffs and timeouts so fault tests run quickly."""
    return StreamConfigurationOptions(**{**FAST, **changes})


@pytest.fixture(params=["sync", "aio"])
def driver(request: pytest.FixtureRequest, zerobus_server: Any) -> Iterator[SyncDriver | AioDriver]:
    """The SDK under test, once per driver, pointed at the session's local server."""
    cls = SyncDriver if request.param == "sync" else AioDriver
    made = cls(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    yield made
    made.close()


@pytest.fixture
def events_table(zerobus_table: Callable[..., str]) -> str:
    return zerobus_table(EVENTS_DDL)


@pytest.fixture(scope="session")
def events_pb2(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """`events_pb2`, compiled by protoc like a user's own module (two messages, Event second)."""
    protoc = pytest.importorskip("grpc_tools.protoc")
    out = tmp_path_factory.mktemp("pb2")
    source = out / "events.proto"
    source.write_text(EVENTS_PROTO)
    assert protoc.main(["protoc", f"-I{out}", f"--python_out={out}", str(source)]) == 0
    return _load(out / "events_pb2.py", "events_pb2")


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return sorted(row["id"] for row in rows)
