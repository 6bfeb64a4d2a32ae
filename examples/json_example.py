"""JSON records: strings, or dicts the SDK serialises, on a JSON stream.

With `record_type=RecordType.JSON` records travel as JSON text. Values follow the same type
contract as protobuf records: DATE as a day count, TIMESTAMP as microseconds since the epoch,
DECIMAL as text (the real service rejects an ISO string for a DATE with error 4044).

    python examples/json_example.py
"""

from __future__ import annotations

import json
import time

from example_settings import TABLE, example_target

from zerobus.sdk.shared import RecordType, StreamConfigurationOptions
from zerobus.sdk.sync import TableProperties, ZerobusSdk


def main() -> None:
    with example_target() as target:
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        options = StreamConfigurationOptions(record_type=RecordType.JSON)
        now_us = time.time_ns() // 1000
        with sdk.create_stream(
            target.client_id, target.client_secret, TableProperties(TABLE), options
        ) as stream:
            text = json.dumps(
                {"device_name": "json-1", "temp": 19, "measured_at": now_us, "calibration": "0.500"}
            )
            stream.ingest_record_offset(text)
            offset = stream.ingest_records_offset(
                [
                    {"device_name": f"json-{i}", "humidity": 60 + i, "measured_at": now_us + i}
                    for i in range(2, 50)
                ]
            )
            assert offset is not None  # None only for an empty list
            stream.wait_for_offset(offset, timeout_sec=30)
            print(f"49 JSON records durable, last offset {offset}")
        sdk.close()


if __name__ == "__main__":
    main()
