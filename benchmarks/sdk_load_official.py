"""The official SDK's side of `sdk_throughput.py`; runs INSIDE the official SDK's venv (python -I).

Protocol on stdin/stdout, one JSON line each: read the case, open the stream, print
``{"ready": true}``, wait for a line ``go``, ingest and flush (the measured window), print the
result. Records are built inside the window exactly as `bench_common.record_dict` builds them.
Not importable from the project venv: the official package is also named `zerobus`.
"""

import asyncio
import base64
import json
import resource
import sys
import time

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from zerobus.sdk import aio as official_aio
from zerobus.sdk.sync import RecordType, StreamConfigurationOptions, TableProperties, ZerobusSdk

BASE_TS_MICROS = 1_700_000_000_000_000
DEVICES = [f"device-{i:03d}" for i in range(100)]
BATCH = 1000


def record_dict(i):
    return {"id": i, "device": DEVICES[i % 100], "value": i * 0.5, "ts": BASE_TS_MICROS + i, "ok": i % 2 == 0}


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def message_class(descriptor_b64):
    descriptor = descriptor_pb2.DescriptorProto.FromString(base64.b64decode(descriptor_b64))
    file_proto = descriptor_pb2.FileDescriptorProto(name="bench.proto", syntax="proto2")
    file_proto.message_type.add().CopyFrom(descriptor)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(descriptor.name))


def builder(shape, record_class):
    """The per-record work a user of the official SDK does for this shape."""
    if shape == "pb2":
        # Exactly as sdk_throughput.build_pb2 builds ours: keywords, no intermediate dict.
        return lambda i: record_class(
            id=i, device=DEVICES[i % 100], value=i * 0.5, ts=BASE_TS_MICROS + i, ok=i % 2 == 0
        )
    if shape == "dict":
        return record_dict
    if shape == "json":
        return lambda i: json.dumps(record_dict(i))
    if shape == "pydantic":
        import pydantic

        class Event(pydantic.BaseModel):
            id: int
            device: str
            value: float
            ts: int  # the official JSON path needs wire values: microseconds
            ok: bool

        return lambda i: Event(**record_dict(i)).model_dump_json()
    raise SystemExit(f"unknown shape {shape}")


def open_stream(sdk_class, case, record_class):
    sdk = sdk_class(case["endpoint"], case["workspace_url"])
    if case["shape"] == "pb2":
        options = StreamConfigurationOptions(record_type=RecordType.PROTO)
        table = TableProperties(case["table"], record_class.DESCRIPTOR)
    else:
        options = StreamConfigurationOptions(record_type=RecordType.JSON)
        table = TableProperties(case["table"])
    return sdk.create_stream(case["client_id"], case["client_secret"], table, options)


def run_sync(case, build):
    stream = open_stream(ZerobusSdk, case, case["record_class"])
    total = case["records"]
    handshake()
    started, cpu = time.perf_counter(), cpu_seconds()
    if case["api"] == "record":
        ingest = stream.ingest_record_offset
        for i in range(total):
            ingest(build(i))
    else:
        for start in range(0, total, BATCH):
            stream.ingest_records_offset([build(i) for i in range(start, start + BATCH)])
    stream.flush()
    result = time.perf_counter() - started, cpu_seconds() - cpu
    stream.close()
    return result


async def run_aio(case, build):
    stream = await open_stream(official_aio.ZerobusSdk, case, case["record_class"])
    total = case["records"]
    await asyncio.to_thread(handshake)
    started, cpu = time.perf_counter(), cpu_seconds()
    if case["api"] == "record":
        ingest = stream.ingest_record_offset
        for i in range(total):
            await ingest(build(i))
    else:
        for start in range(0, total, BATCH):
            await stream.ingest_records_offset([build(i) for i in range(start, start + BATCH)])
    await stream.flush()
    result = time.perf_counter() - started, cpu_seconds() - cpu
    await stream.close()
    return result


def handshake():
    print(json.dumps({"ready": True}), flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("expected 'go'")


def main():
    case = json.loads(sys.stdin.readline())
    case["record_class"] = message_class(case["descriptor"])
    build = builder(case["shape"], case["record_class"])
    if case["driver"] == "sync":
        seconds, cpu = run_sync(case, build)
    else:
        seconds, cpu = asyncio.run(run_aio(case, build))
    print(json.dumps({"seconds": seconds, "client_cpu_s": cpu}), flush=True)


if __name__ == "__main__":
    main()
