"""Plain dicts with a runtime schema: no .proto, no protoc, no generated code.

`load_schema` reads the table from Unity Catalog once (or from a DDL string or a saved JSON
file); the SDK turns each dict into the table's protobuf message, converting dates, aware
datetimes, Decimals and nested values as the Zerobus type contract says, and rejects a bad
record at the ingest call with the field, the value and the reason.

    python examples/dict_example.py
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
        print(f"{schema.name}: {schema.ddl()}")
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        with sdk.create_stream(
            target.client_id, target.client_secret, TableProperties(TABLE, schema)
        ) as stream:
            record = {
                "device_name": "sensor-1",
                "temp": 23,
                "measured_at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                "reading_date": dt.date(2026, 1, 2),
                "location": {"lat": 52.52, "lon": 13.40},
                "tags": {"site": "berlin", "floor": "3"},
                "calibration": decimal.Decimal("1.250"),
            }
            print(f"offset {stream.ingest_record_offset(record)}")
            now = record["measured_at"]
            for bad in (
                {"device_name": "sensor-2", "measured_at": dt.datetime(2026, 1, 2)},  # naive TIMESTAMP
                {"device_name": "sensor-3", "measured_at": now, "calibration": decimal.Decimal("1.2345")},
                {"device_name": "sensor-4", "measured_at": now, "tags": {"site": None}},
                {"device_name": "sensor-5", "measured_at": 1_767_323_045},  # seconds; TIMESTAMP ints are µs
                {"device_name": "sensor-6", "measured_at": now, "calibration": 1.25},  # floats are binary
            ):
                try:
                    stream.ingest_record_offset(bad)
                except InvalidRecordError as error:
                    print(f"rejected: field {error.field!r}: {error.reason}")
            stream.flush()
        sdk.close()


if __name__ == "__main__":
    main()
