"""Compiled `_pb2` messages, the official SDK's way: a .proto, protoc, then the generated class.

The .proto comes from `zerobus-codegen` (same text as the official generate_proto tool); protoc
here is grpcio-tools' (`pip install grpcio-tools`). Code written for the official SDK with
`TableProperties(TABLE, AirQuality.DESCRIPTOR)` runs unchanged on this SDK.

    python examples/pb2_example.py
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import time
from pathlib import Path

from example_settings import TABLE, example_target

from zerobus.codegen import load_schema, proto_text
from zerobus.sdk.sync import TableProperties, ZerobusSdk


def compile_proto(proto: Path, out_dir: Path) -> None:
    from grpc_tools import protoc

    if protoc.main(["protoc", f"-I{proto.parent}", f"--python_out={out_dir}", str(proto)]) != 0:
        raise RuntimeError(f"protoc failed on {proto}")


def main() -> None:
    with example_target() as target, tempfile.TemporaryDirectory() as work:
        schema = load_schema(
            TABLE, host=target.workspace_url, client_id=target.client_id, client_secret=target.client_secret
        )
        proto = Path(work, "air_quality.proto")
        proto.write_text(proto_text(schema))
        compile_proto(proto, Path(work))
        sys.path.insert(0, work)
        air_quality_pb2 = importlib.import_module("air_quality_pb2")
        AirQuality = air_quality_pb2.air_quality  # noqa: N806 (the message is named after the table)

        sdk = ZerobusSdk(target.server_endpoint, target.workspace_url)
        properties = TableProperties(TABLE, AirQuality.DESCRIPTOR)
        with sdk.create_stream(target.client_id, target.client_secret, properties) as stream:
            now_us = time.time_ns() // 1000
            for i in range(1000):
                message = AirQuality(device_name=f"pb2-{i % 5}", temp=20 + i % 10, measured_at=now_us + i)
                stream.ingest_record_offset(message)
            stream.flush()
            print("1000 compiled messages durable")
        sdk.close()


if __name__ == "__main__":
    main()
