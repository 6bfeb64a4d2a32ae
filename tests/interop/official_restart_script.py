"""Runs INSIDE the official SDK's venv (python -I): ingest through a server crash and restart.

Arguments: one JSON object on stdin's first line. The script ingests `before` JSON records
``{"id": i}`` and flushes, prints ``ready``, then ingests `after` more records, one every
`pace_s` seconds, while the test kills and restarts the server. Every acknowledged offset is
printed as ``ack <offset>`` the moment the SDK reports it; the last line is a JSON object with
the offset each record got and the error that ended the run, if any.
"""

import json
import sys
import threading
import time

from zerobus.sdk.shared import AckCallback
from zerobus.sdk.sync import RecordType, StreamConfigurationOptions, TableProperties, ZerobusSdk

_print_lock = threading.Lock()


def _say(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class _PrintAcks(AckCallback):
    def on_ack(self, offset: int) -> None:
        _say(f"ack {offset}")

    def on_error(self, offset: int, error_message: str) -> None:
        _say(f"error {offset} {json.dumps(error_message)}")


def main() -> None:
    args = json.loads(sys.stdin.readline())
    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    options = StreamConfigurationOptions(
        record_type=RecordType.JSON,
        ack_callback=_PrintAcks(),
        # The server is down while it restarts (seconds on a busy machine): keep retrying that long.
        recovery_retries=args["recovery_retries"],
        recovery_backoff_ms=args["recovery_backoff_ms"],
    )
    stream = sdk.create_stream(
        args["client_id"], args["client_secret"], TableProperties(args["table"]), options
    )
    offsets: dict[int, int] = {}
    error = None
    try:
        for i in range(args["before"]):
            offsets[i] = stream.ingest_record_offset(json.dumps({"id": i}))
        stream.flush()
        _say("ready")
        for i in range(args["before"], args["before"] + args["after"]):
            offsets[i] = stream.ingest_record_offset(json.dumps({"id": i}))
            time.sleep(args["pace_s"])
        stream.flush()
        stream.close()
    except Exception as exc:  # reported to the test, which decides
        error = f"{type(exc).__name__}: {exc}"
    _say(json.dumps({"offsets": offsets, "error": error}))


if __name__ == "__main__":
    main()
