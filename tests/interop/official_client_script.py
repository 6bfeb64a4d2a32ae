"""Runs INSIDE the official SDK's venv (python -I): ingest PROTO and JSON records into a server.

Arguments come as one JSON object on stdin; prints one JSON line with the offsets it got.
The official 1.10 client speaks plaintext gRPC when the endpoint is `http://...` (its core also
has `set_use_tls(False)`, which the Python wrapper does not expose; the scheme is enough).
"""

import base64
import json
import sys
import time

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from zerobus.sdk.sync import RecordType, StreamConfigurationOptions, TableProperties, ZerobusSdk


def main() -> None:
    args = json.loads(sys.stdin.read())
    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    result = {}
    if "proto_table" in args:
        descriptor = descriptor_pb2.DescriptorProto.FromString(base64.b64decode(args["descriptor"]))
        file_proto = descriptor_pb2.FileDescriptorProto(name="interop.proto", syntax="proto2")
        file_proto.message_type.add().CopyFrom(descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file_proto)
        record_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(descriptor.name))
        stream = sdk.create_stream(
            args["client_id"],
            args["client_secret"],
            TableProperties(args["proto_table"], record_class.DESCRIPTOR),
            StreamConfigurationOptions(record_type=RecordType.PROTO),
        )
        offsets = [stream.ingest_record_offset(record_class(**fields)) for fields in args["proto_records"]]
        batch = [record_class(**fields).SerializeToString() for fields in args["proto_batch"]]
        offsets.append(stream.ingest_records_offset(batch))
        stream.flush()
        stream.close()
        result["proto_offsets"] = offsets
    if "json_table" in args:
        stream = sdk.create_stream(
            args["client_id"],
            args["client_secret"],
            TableProperties(args["json_table"]),
            StreamConfigurationOptions(record_type=RecordType.JSON),
        )
        offsets = []
        for record in args["json_records"]:
            offsets.append(stream.ingest_record_offset(json.dumps(record)))
            time.sleep(args.get("pace_s", 0))
        offsets.append(stream.ingest_records_offset([json.dumps(r) for r in args["json_batch"]]))
        stream.flush()
        stream.close()
        result["json_offsets"] = offsets
    print(json.dumps(result))


if __name__ == "__main__":
    main()
