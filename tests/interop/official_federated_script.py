"""Runs INSIDE the official SDK's venv (python -I): federated streams (``auth=FederatedToken``).

Arguments come as one JSON object on stdin: endpoint, workspace_url, table, `idp_url` (the
server's dev IdP endpoint), `subject`, optional `client_id` (workload identity federation),
`streams` (how many streams one after the other, with the same FederatedToken), `records` per
stream, `driver` ("sync" or "aio": the aio one uses an ``async def`` supplier), and
`expired_idp_token` (the supplier returns this instead), `pause_before_stream` (an index: before
opening that stream, print PAUSED and wait for a line on stdin). Arguments are the first line of
stdin. Prints one JSON line: the offsets of every stream and how often the supplier was called,
or the error text.
"""

import asyncio
import json
import sys
import urllib.parse
import urllib.request

from zerobus.sdk.shared import FederatedToken
from zerobus.sdk.sync import RecordType, StreamConfigurationOptions, TableProperties


def idp_token(args, calls):
    calls.append(1)
    if args.get("expired_idp_token"):
        return args["expired_idp_token"]
    body = urllib.parse.urlencode({"subject": args["subject"]}).encode()
    with urllib.request.urlopen(args["idp_url"], data=body, timeout=30) as response:
        return json.loads(response.read())["id_token"]


def pause(args, index):
    if args.get("pause_before_stream") == index:
        print("PAUSED", flush=True)
        sys.stdin.readline()


def options():
    return StreamConfigurationOptions(
        record_type=RecordType.JSON, recovery_retries=2, recovery_backoff_ms=100
    )


def run_sync(args, calls):
    from zerobus.sdk.sync import ZerobusSdk

    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    auth = FederatedToken(lambda: idp_token(args, calls), args.get("client_id"))
    offsets = []
    next_id = 0
    for index in range(args["streams"]):
        pause(args, index)
        stream = sdk.create_stream(
            table_properties=TableProperties(args["table"]), options=options(), auth=auth
        )
        for _ in range(args["records"]):
            offsets.append(stream.ingest_record_offset(json.dumps({"id": next_id, "name": "f"})))
            next_id += 1
        stream.flush()
        stream.close()
    return offsets


async def run_aio(args, calls):
    from zerobus.sdk.aio import ZerobusSdk

    async def supplier():
        return await asyncio.to_thread(idp_token, args, calls)

    sdk = ZerobusSdk(args["endpoint"], args["workspace_url"])
    auth = FederatedToken(supplier, args.get("client_id"))
    offsets = []
    next_id = 0
    for index in range(args["streams"]):
        pause(args, index)
        stream = await sdk.create_stream(
            table_properties=TableProperties(args["table"]), options=options(), auth=auth
        )
        for _ in range(args["records"]):
            offsets.append(await stream.ingest_record_offset(json.dumps({"id": next_id, "name": "f"})))
            next_id += 1
        await stream.flush()
        await stream.close()
    return offsets


def main():
    args = json.loads(sys.stdin.readline())
    calls = []
    try:
        offsets = asyncio.run(run_aio(args, calls)) if args.get("driver") == "aio" else run_sync(args, calls)
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}", "supplier_calls": len(calls)}))
        return
    print(json.dumps({"offsets": offsets, "supplier_calls": len(calls)}))


if __name__ == "__main__":
    main()
