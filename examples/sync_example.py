"""Synchronous ingestion: progress tracking, an ack callback, error handling, figures, shutdown.

No .proto and no protoc: `TableProperties(TABLE)` without a descriptor makes the SDK read the
table's schema from Unity Catalog when the stream is created and build the protobuf descriptor
at runtime, so records can be plain dicts.

    python examples/sync_example.py            # local server, or the one the environment names
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from example_settings import TABLE, example_target

from zerobus.sdk.shared import AckCallback, StreamConfigurationOptions
from zerobus.sdk.sync import NonRetriableException, TableProperties, ZerobusException, ZerobusSdk

RECORDS = 20_000


class Progress(AckCallback):
    """Counts durable records; runs on the SDK's callback thread, never under its locks."""

    def __init__(self) -> None:
        self.acked = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def on_ack(self, offset: int) -> None:
        with self._lock:
            self.acked = offset + 1  # offsets are logical and start at 0: all before are durable too

    def on_error(self, offset: int, error_message: str) -> None:
        with self._lock:
            self.errors.append(f"offset {offset}: {error_message}")


def reading(index: int) -> dict[str, object]:
    return {
        "device_name": f"sensor-{index % 10}",
        "temp": 15 + index % 20,
        "humidity": 40 + index % 50,
        "measured_at": dt.datetime.now(dt.timezone.utc),
    }


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with example_target() as target:
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        progress = Progress()
        options = StreamConfigurationOptions(ack_callback=progress, max_inflight_records=50_000)
        stream = sdk.create_stream(target.client_id, target.client_secret, TableProperties(TABLE), options)
        started = time.perf_counter()
        try:
            try:
                stream.ingest_record_offset({"device_name": "sensor-x", "temp": "warm"})
            except ValueError as error:  # InvalidRecordError: names field, value and reason
                print(f"rejected before sending, stream still healthy: {error}")

            for index in range(RECORDS):
                stream.ingest_record_offset(reading(index))
                if index % 5_000 == 0:
                    print(f"ingested {index:>6}, acknowledged {progress.acked:>6}")
            stream.flush()  # returns once everything ingested so far is durable
            elapsed = time.perf_counter() - started
            print(f"{RECORDS} records durable in {elapsed:.2f} s: {RECORDS / elapsed:,.0f} records/s")
        except NonRetriableException as error:
            print(f"stream failed for good: {error}")
            unacked = list(stream.get_unacked_records())
            print(f"{len(unacked)} records were not acknowledged; re-send them on a new stream")
            raise
        except ZerobusException as error:
            print(f"retryable failure after the SDK's own recovery attempts: {error}")
            raise
        finally:
            stream.close()  # idempotent; flushes first
            sdk.close()
        print(
            f"acknowledged {progress.acked} records, {len(progress.errors)} errors, state {stream.get_state().name}"
        )


if __name__ == "__main__":
    main()
