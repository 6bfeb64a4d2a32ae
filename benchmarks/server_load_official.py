"""Load generator for the server benchmark; runs INSIDE the official SDK's venv (python -I).

Reads one JSON object of arguments on stdin, streams records with the official Rust-backed
client, prints one JSON line with what it measured. Not importable from the project venv
(the official package is also named `zerobus`).
"""

import base64
import json
import sys
import time

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from zerobus.sdk.sync import RecordType, StreamConfigurationOptions, TableProperties, ZerobusSdk


def main() -> None:
    args = json.loads(sys.stdin.read())
    descriptor = descriptor_pb2.DescriptorProto.FromString(base64.b64decode(args["descriptor"]))
    file_proto = descriptor_pb2.FileDescriptorProto(name="bench.proto", syntax="proto2")
    file_proto.message_type.add().CopyFrom(descriptor)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    record_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(descriptor.name))
    payloads = [
        record_class(
            id=i, name=f"device-{i % 97}", value=i * 0.5, ts=1_700_000_000_000_000 + i, small=i % 1000
        )
        for i in range(1000)
    ]
    encoded = [p.SerializeToString() for p in payloads]
    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    options = StreamConfigurationOptions(record_type=RecordType.PROTO)
    stream = sdk.create_stream(
        args["client_id"],
        args["client_secret"],
        TableProperties(args["table"], record_class.DESCRIPTOR),
        options,
    )
    total, batch = args["records"], args["batch"]
    started = time.perf_counter()
    if batch == 1:
        for i in range(total):
            stream.ingest_record_offset(encoded[i % 1000])
    else:
        chunk = encoded[:batch] if batch <= 1000 else (encoded * (batch // 1000 + 1))[:batch]
        for _ in range(total // batch):
            stream.ingest_records_offset(chunk)
    stream.flush()
    seconds = time.perf_counter() - started
    stream.close()
    print(json.dumps({"records": total, "seconds": seconds, "records_per_s": total / seconds}))


if __name__ == "__main__":
    main()
