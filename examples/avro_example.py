"""Avro records: the table's Avro writer schema, then dicts, Pydantic models or pre-encoded bytes.

`TableProperties(table, avro_schema=...)` makes an AVRO stream; `TableSchema.avro_schema()` (or
`zerobus-codegen table NAME --avro`) gives the schema of a table. Dicts are checked against the
schema before they are encoded: a bad value fails the call and the stream stays healthy.
Needs fastavro: ``pip install 'zerobus-toolkit[avro]'``.

    python examples/avro_example.py
"""

from __future__ import annotations

import datetime as dt
import decimal

from example_settings import TABLE, example_target

from zerobus.codegen import load_schema
from zerobus.errors import InvalidRecordError
from zerobus.sdk.sync import TableProperties, ZerobusSdk


def main() -> None:
    with example_target() as target:
        schema = load_schema(
            TABLE, host=target.workspace_url, client_id=target.client_id, client_secret=target.client_secret
        )
        properties = TableProperties(TABLE, avro_schema=schema.avro_schema())
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        with sdk.create_stream(target.client_id, target.client_secret, properties) as stream:
            now = dt.datetime.now(dt.timezone.utc)
            stream.ingest_record_offset(
                {
                    "device_name": "avro-1",
                    "temp": 21,
                    "measured_at": now,
                    "reading_date": now.date(),
                    "location": {"lat": 52.37, "lon": 4.89},
                    "tags": {"site": "roof"},
                    "calibration": decimal.Decimal("0.125"),
                }
            )
            try:
                stream.ingest_record_offset(
                    {"device_name": "avro-bad", "measured_at": now, "calibration": 0.1}
                )
            except InvalidRecordError as error:
                print(f"rejected before sending: {error}")
            offset = stream.ingest_records_offset(
                [{"device_name": f"avro-{i}", "humidity": i, "measured_at": now} for i in range(2, 21)]
            )
            assert offset is not None  # None only for an empty list
            stream.wait_for_offset(offset, timeout_sec=30)
            print(f"20 Avro records durable, last offset {offset}")
        sdk.close()


if __name__ == "__main__":
    main()
