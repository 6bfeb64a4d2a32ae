"""The official SDK 1.10 sends AVRO streams to our server: rows land in Delta, value-exactly.

Our codegen's writer schema is the one the official client sends; the records are encoded here
with fastavro (the official venv need not have it) and passed to the official client as bytes,
which it sends as they are.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import fastavro
import pytest

from tests.support.official_sdk import require_official_sdk_python, run_official
from zerobus.codegen import schema_from_ddl
from zerobus.sdk.shared.avro import make_encoder
from zerobus.server import LocalZerobusServer
from zerobus.server.validation.avro_checks import compile_avro_schema

pytestmark = pytest.mark.official_sdk

SCRIPT = Path(__file__).with_name("official_avro_script.py")
COLUMNS = (
    "id BIGINT NOT NULL, name STRING, day DATE, at TIMESTAMP, amount DECIMAL(8,2), "
    "tags ARRAY<STRING>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>"
)
UTC = dt.timezone.utc


def _encoded(schema_text: str, records: list[dict[str, Any]]) -> list[str]:
    parsed = fastavro.parse_schema(json.loads(schema_text))
    encoded = []
    for record in records:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, record)
        encoded.append(base64.b64encode(out.getvalue()).decode())
    return encoded


def test_official_sdk_ingests_avro_records_into_delta(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    python = require_official_sdk_python()
    table = zerobus_table(COLUMNS)
    schema_text = zerobus_server.table_schema(table).avro_schema()
    at = dt.datetime(2024, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    singles = [
        {"id": 0, "name": "a", "day": dt.date(2024, 1, 2), "at": at, "amount": decimal.Decimal("12.30"),
         "tags": ["x", "y"], "loc": {"lat": 1.5, "lon": -2.25}},
        {"id": 1},
    ]  # fmt: skip
    batch = [{"id": 100 + i, "name": f"b{i}"} for i in range(20)]
    args = {
        "endpoint": zerobus_server.grpc_endpoint,
        "workspace_url": zerobus_server.workspace_url,
        "client_id": zerobus_server.client_id,
        "client_secret": zerobus_server.client_secret,
        "table": table,
        "avro_schema": schema_text,
        "records": _encoded(schema_text, singles),
        "batch": _encoded(schema_text, batch),
    }
    result = run_official(python, str(SCRIPT), stdin=json.dumps(args))
    assert result.returncode == 0, result.stderr[-4000:]
    output = json.loads(result.stdout.strip().splitlines()[-1])
    assert output == {"offsets": [0, 1, 2], "record_format": "avro"}
    rows = sorted(zerobus_server.rows(table), key=lambda row: row["id"])
    assert [row["id"] for row in rows] == [0, 1, *range(100, 120)]
    assert rows[0] == {
        "id": 0,
        "name": "a",
        "day": dt.date(2024, 1, 2),
        "at": at,
        "amount": decimal.Decimal("12.30"),
        "tags": ["x", "y"],
        "loc": {"lat": 1.5, "lon": -2.25},
    }
    assert rows[1] == {
        "id": 1,
        "name": None,
        "day": None,
        "at": None,
        "amount": None,
        "tags": None,
        "loc": None,
    }
    assert rows[-1]["name"] == "b19"


def test_official_sdk_with_an_incompatible_schema_fails_at_creation(
    zerobus_server: LocalZerobusServer, zerobus_table: Any
) -> None:
    python = require_official_sdk_python()
    table = zerobus_table("id BIGINT NOT NULL")
    schema_text = json.dumps({"type": "record", "name": "E", "fields": [{"name": "id", "type": "string"}]})
    args = {
        "endpoint": zerobus_server.grpc_endpoint,
        "workspace_url": zerobus_server.workspace_url,
        "client_id": zerobus_server.client_id,
        "client_secret": zerobus_server.client_secret,
        "table": table,
        "avro_schema": schema_text,
        "records": [],
        "batch": [],
    }
    result = run_official(python, str(SCRIPT), stdin=json.dumps(args))
    assert result.returncode != 0
    assert "avro_schema incompatible with table" in result.stderr
    assert "column 'id' is bigint but the Avro schema gives it string" in result.stderr


def _official_avro_module(python: Path) -> Any:
    """The official `zerobus.sdk.shared.avro` (pure Python over fastavro), loaded here under a
    private name: its encoder is what official users run on their records."""
    found = run_official(python, "-c", "import zerobus.sdk.shared.avro as m; print(m.__file__)")
    assert found.returncode == 0, found.stderr[-2000:]
    spec = importlib.util.spec_from_file_location("official_zerobus_avro", found.stdout.strip())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_official_encoder_takes_our_schema_and_writes_our_bytes(
    zerobus_server: LocalZerobusServer,
) -> None:
    """Our codegen schema is one the official encoder accepts, and both write the same bytes."""
    python = require_official_sdk_python()
    official = _official_avro_module(python)
    schema = schema_from_ddl(
        COLUMNS + ", ntz TIMESTAMP_NTZ, raw BINARY, m MAP<STRING,BIGINT>, doc VARIANT", "main.default.events"
    )
    schema_text = schema.avro_schema()
    record = {
        "id": 7,
        "name": "x",
        "day": dt.date(2020, 1, 31),
        "at": dt.datetime(2021, 6, 7, 8, 9, 10, 111213, tzinfo=UTC),
        "amount": decimal.Decimal("-99.01"),
        "tags": ["a"],
        "loc": {"lat": 0.5, "lon": None},
        "ntz": dt.datetime(2000, 2, 29, 12, 0, 0, 1),
        "raw": b"\x00\x01",
        "m": {"k": 2**40},
        "doc": '{"a":1}',
    }
    ours = make_encoder(schema_text)
    assert ours is not None
    written = official.AvroEncoder(schema_text).encode(record)
    assert written == ours.encode(record)
    assert compile_avro_schema(schema_text, schema).read(written)["amount"] == "-99.01"
