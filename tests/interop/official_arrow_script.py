"""Runs INSIDE the official SDK's venv (python -I): ingest Arrow batches with `create_arrow_stream`.

Arguments come as one JSON object on stdin: endpoint, workspace_url, client_id, client_secret,
table, `schema` ("table": the table's columns id BIGINT NOT NULL, name STRING; "wrong": id as
int32), `batches` (a list of row counts), `compression` (NONE, LZ4_FRAME, ZSTD). Prints one JSON
line: the offsets it got, or the error text and the unacknowledged batches' row counts.
"""

import contextlib
import json
import sys

import pyarrow as pa

from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions, IPCCompression
from zerobus.sdk.sync import ZerobusSdk

SCHEMAS = {
    # large_utf8 as in the official SDK's own example: the server takes it for STRING.
    "table": pa.schema([pa.field("id", pa.int64(), nullable=False), ("name", pa.large_utf8())]),
    "wrong": pa.schema([pa.field("id", pa.int32(), nullable=False), ("name", pa.large_utf8())]),
}


def main() -> None:
    args = json.loads(sys.stdin.read())
    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    schema = SCHEMAS[args.get("schema", "table")]
    options = ArrowStreamConfigurationOptions(
        ipc_compression=getattr(IPCCompression, args.get("compression", "NONE")),
        recovery_backoff_ms=100,
        recovery_retries=args.get("recovery_retries", 4),
    )
    try:
        stream = sdk.create_arrow_stream(
            args["table"], schema, args["client_id"], args["client_secret"], options
        )
    except Exception as error:
        print(json.dumps({"create_error": f"{type(error).__name__}: {error}"}))
        return
    offsets = []
    next_id = 0
    try:
        for count in args["batches"]:
            ids = list(range(next_id, next_id + count))
            next_id += count
            batch = pa.record_batch({"id": ids, "name": [f"n{i}" for i in ids]}, schema=schema)
            offsets.append(stream.ingest_batch(batch))
        stream.flush()
        stream.close()
    except Exception as error:
        unacked = []
        with contextlib.suppress(Exception):
            stream.close()
        try:
            unacked = [batch.num_rows for batch in stream.get_unacked_batches()]
        except Exception as unacked_error:
            unacked = [f"{type(unacked_error).__name__}: {unacked_error}"]
        print(
            json.dumps({"offsets": offsets, "error": f"{type(error).__name__}: {error}", "unacked": unacked})
        )
        return
    print(json.dumps({"offsets": offsets}))


if __name__ == "__main__":
    main()
