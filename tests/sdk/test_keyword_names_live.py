"""The ingest methods take the official SDK's parameter names as keywords (`payload`, `payloads`),
and positional calls keep working, on both drivers, against the local server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from zerobus.sdk import aio, sync
from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties

JSON = StreamConfigurationOptions(record_type=RecordType.JSON)


def _record(i: int) -> str:
    return json.dumps({"id": i, "name": f"n{i}"})


def test_sync_ingest_by_keyword_and_by_position(zerobus_server: Any, events_table: str) -> None:
    with sync.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url) as sdk:
        stream = sdk.create_stream(
            zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), JSON
        )
        first = stream.ingest_record_offset(payload=_record(1))
        stream.ingest_record_nowait(payload=_record(2))
        ack = stream.ingest_record(payload=_record(3))
        batch = stream.ingest_records_offset(payloads=[_record(4), _record(5)])
        stream.ingest_records_nowait(payloads=[_record(6)])
        stream.ingest_record_offset(_record(7))
        stream.ingest_records_offset([_record(8)])
        assert ack.wait_for_ack(timeout_sec=30) == first + 2
        assert batch == first + 3
        stream.close()
    rows = zerobus_server.rows(events_table)
    assert sorted(row["id"] for row in rows) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_aio_ingest_by_keyword_and_by_position(zerobus_server: Any, events_table: str) -> None:
    async def main() -> tuple[int, int | None]:
        async with aio.ZerobusSdk(zerobus_server.grpc_endpoint, zerobus_server.workspace_url) as sdk:
            stream = await sdk.create_stream(
                zerobus_server.client_id, zerobus_server.client_secret, TableProperties(events_table), JSON
            )
            first = await stream.ingest_record_offset(payload=_record(1))
            stream.ingest_record_nowait(payload=_record(2))
            ack = await stream.ingest_record(payload=_record(3))
            batch = await stream.ingest_records_offset(payloads=[_record(4), _record(5)])
            stream.ingest_records_nowait(payloads=[_record(6)])
            await stream.ingest_record_offset(_record(7))
            await stream.ingest_records_offset([_record(8)])
            assert await ack.wait_for_ack(timeout_sec=30) == first + 2
            await stream.close()
            return first, batch

    first, batch = asyncio.run(main())
    assert batch == first + 3
    rows = zerobus_server.rows(events_table)
    assert sorted(row["id"] for row in rows) == [1, 2, 3, 4, 5, 6, 7, 8]
