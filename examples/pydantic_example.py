"""Typed records: a Pydantic model generated from the table, validated before anything is sent.

`zerobus-codegen table main.default.air_quality --out-dir models/` writes the same model as a
module you can commit; here it is built at runtime from the Unity Catalog schema. Each model
knows its table's schema, so `TableProperties(TABLE, AirQuality)` needs no .proto.

    python examples/pydantic_example.py
"""

from __future__ import annotations

import datetime as dt
import decimal

import pydantic
from example_settings import TABLE, example_target

from zerobus.codegen import load_schema, model_class
from zerobus.sdk.sync import TableProperties, ZerobusSdk


def main() -> None:
    with example_target() as target:
        schema = load_schema(
            TABLE, host=target.workspace_url, client_id=target.client_id, client_secret=target.client_secret
        )
        AirQuality = model_class(schema)  # noqa: N806 (a class)
        print(f"model {AirQuality.__name__} with fields {list(AirQuality.model_fields)}")

        try:
            AirQuality.model_validate({"device_name": "s-1", "temp": 2**40, "measured_at": dt.datetime.now()})
        except pydantic.ValidationError as error:  # INT range and timezone-aware TIMESTAMP, checked locally
            print(f"caught by the model: {error.error_count()} problems")

        now = dt.datetime.now(dt.timezone.utc)
        readings = [
            AirQuality.model_validate(
                {
                    "device_name": "sensor-7",
                    "temp": 21 + i,
                    "measured_at": now + dt.timedelta(minutes=i),
                    "reading_date": now.date(),
                    "location": {"lat": 52.37, "lon": 4.89},
                    "tags": {"site": "amsterdam"},
                    "calibration": decimal.Decimal("0.125"),
                }
            )
            for i in range(100)
        ]
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        with sdk.create_stream(
            target.client_id, target.client_secret, TableProperties(TABLE, AirQuality)
        ) as stream:
            offset = stream.ingest_records_offset(readings)  # one offset for the whole list
            assert offset is not None  # None only for an empty list
            stream.wait_for_offset(offset, timeout_sec=30)
            print(f"100 models durable (batch offset {offset})")
        sdk.close()


if __name__ == "__main__":
    main()
