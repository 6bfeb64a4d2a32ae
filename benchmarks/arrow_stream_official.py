"""The official SDK's side of `arrow_stream.py`; runs INSIDE the official SDK's venv (python -I).

Protocol on stdin/stdout, one JSON line each: read the case and build the batches once; then per
round open an Arrow stream, print ``{"ready": true}``, wait for a line ``go``, ingest every batch
and flush (the measured window), print the result and close the stream. Any other line than
``go`` ends the process. The batches are built as `server_arrow.make_batches` builds ours. Not
importable from the project venv: the official package is also named `zerobus`.
"""

import json
import resource
import sys
import time

import pyarrow as pa

from zerobus.sdk.sync import ZerobusSdk

BASE_TS_MICROS = 1_700_000_000_000_000
DEVICES = [f"device-{i:03d}" for i in range(100)]


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_batches(schema, rows, batch):
    devices = pa.array(DEVICES)
    batches = []
    for start in range(0, rows, batch):
        count = min(batch, rows - start)
        columns = [
            pa.array(range(start, start + count), pa.int64()),
            devices.take(pa.array([i % 100 for i in range(start, start + count)])),
            pa.array([i * 0.5 for i in range(start, start + count)], pa.float64()),
            pa.array(range(BASE_TS_MICROS + start, BASE_TS_MICROS + start + count), pa.int64()).cast(
                pa.timestamp("us", tz="UTC")
            ),
            pa.array([i % 2 == 0 for i in range(start, start + count)]),
        ]
        batches.append(pa.RecordBatch.from_arrays(columns, schema=schema))
    return batches


def main():
    case = json.loads(sys.stdin.readline())
    schema = pa.ipc.read_schema(pa.py_buffer(bytes.fromhex(case["schema_hex"])))
    batches = make_batches(schema, case["rows"], case["batch"])
    sdk = ZerobusSdk(case["endpoint"], case["workspace_url"])
    while True:
        stream = sdk.create_arrow_stream(case["table"], schema, case["client_id"], case["client_secret"])
        print(json.dumps({"ready": True}), flush=True)
        if sys.stdin.readline().strip() != "go":
            stream.close()
            return
        cpu, start = cpu_seconds(), time.perf_counter()
        for batch in batches:
            stream.ingest_batch(batch)
        stream.flush()
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        stream.close()
        print(json.dumps({"seconds": seconds, "client_cpu_s": cpu}), flush=True)


if __name__ == "__main__":
    main()
