"""Runs INSIDE the official SDK's venv (python -I): ingest Avro records into a server.

Arguments come as one JSON object on stdin: the table, the writer schema and the records, each
already Avro-encoded (base64) by the test, since the official venv need not have fastavro.
Prints one JSON line with the offsets it got.
"""

import base64
import json
import sys

from zerobus.sdk.sync import StreamConfigurationOptions, TableProperties, ZerobusSdk


def main() -> None:
    args = json.loads(sys.stdin.read())
    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    properties = TableProperties(args["table"], avro_schema=args["avro_schema"])
    stream = sdk.create_stream(
        args["client_id"], args["client_secret"], properties, StreamConfigurationOptions()
    )
    offsets = [stream.ingest_record_offset(base64.b64decode(r)) for r in args["records"]]
    offsets.append(stream.ingest_records_offset([base64.b64decode(r) for r in args["batch"]]))
    stream.flush()
    stream.close()
    print(json.dumps({"offsets": offsets, "record_format": properties.record_format}))


if __name__ == "__main__":
    main()
