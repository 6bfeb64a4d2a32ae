"""asyncio ingestion from 100 concurrent tasks, with progress, an ack callback and clean shutdown.

The asyncio SDK (`zerobus.sdk.aio`) drives the same engine as the synchronous one: same
options, same recovery, same guarantees; every call that can wait is awaitable.

    python examples/async_example.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from example_settings import TABLE, example_target

from zerobus.sdk.aio import TableProperties, ZerobusException, ZerobusSdk, ZerobusStream
from zerobus.sdk.shared import AckCallback, StreamConfigurationOptions

TASKS = 100
RECORDS_PER_TASK = 200


class LastAcked(AckCallback):
    def __init__(self) -> None:
        self.offset = -1

    def on_ack(self, offset: int) -> None:
        self.offset = max(self.offset, offset)


async def producer(stream: ZerobusStream, task: int) -> None:
    for index in range(RECORDS_PER_TASK):
        record = {
            "device_name": f"task-{task}",
            "temp": index % 40,
            "measured_at": dt.datetime.now(dt.timezone.utc),
        }
        await stream.ingest_record_offset(record)


async def main() -> None:
    with example_target() as target:
        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        acked = LastAcked()
        options = StreamConfigurationOptions(ack_callback=acked)
        started = time.perf_counter()
        stream = await sdk.create_stream(
            target.client_id, target.client_secret, TableProperties(TABLE), options
        )
        async with stream:  # closes (after a flush) however the block ends
            try:
                await asyncio.gather(*(producer(stream, task) for task in range(TASKS)))
                await stream.flush()
            except ZerobusException as error:
                print(
                    f"ingestion failed: {error}; {len(list(await stream.get_unacked_records()))} unacknowledged"
                )
                raise
        total = TASKS * RECORDS_PER_TASK
        elapsed = time.perf_counter() - started
        print(
            f"{total} records from {TASKS} tasks durable in {elapsed:.2f} s ({total / elapsed:,.0f} records/s)"
        )
        print(
            f"last acknowledged offset {acked.offset}, stream {stream.stream_id} is {stream.get_state().name}"
        )
        await sdk.close()


if __name__ == "__main__":
    asyncio.run(main())
