"""An acknowledge-only Zerobus gRPC peer: the stand-in for a server that is never the bottleneck.

The local server decodes and checks every value, so when a client is fast enough the server's
single Python process sets the pace and two clients cannot be told apart. This peer answers
`CreateIngestStream` and acknowledges every request as soon as it arrives, without decoding
records (the C protobuf parser only splits each request into its fields), so what a benchmark
measures against it is the client. Tokens and Unity Catalog still come from the local server's
HTTP API; this peer ignores the authorization header. Benchmarks only: it stores nothing.

    python benchmarks/ack_sink.py   # prints {"grpc_endpoint": ...} on one line, serves until killed
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc

from zerobus.protocol import EphemeralStreamRequest, EphemeralStreamResponse
from zerobus.protocol.messages import METHOD_PATH


def _answers(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    for request in requests:
        kind = request.WhichOneof("payload")
        if kind == "create_stream":
            yield EphemeralStreamResponse(create_stream_response={"stream_id": "ack-sink"})
        elif kind == "ingest_record":
            yield EphemeralStreamResponse(
                ingest_record_response={"durability_ack_up_to_offset": request.ingest_record.offset_id}
            )
        elif kind == "ingest_record_batch":
            offset = request.ingest_record_batch.offset_id
            yield EphemeralStreamResponse(ingest_record_response={"durability_ack_up_to_offset": offset})


def serve_stream(
    path: str,
    answers: Callable[[Iterator[Any], grpc.ServicerContext], Iterator[Any]],
    request_deserializer: Callable[[bytes], Any],
    response_serializer: Callable[[Any], bytes] | None,
) -> tuple[grpc.Server, int]:
    """Serve one bidirectional method `path` on a free loopback port; return the server and port."""
    service, method = path.strip("/").split("/")
    handler = grpc.method_handlers_generic_handler(
        service,
        {
            method: grpc.stream_stream_rpc_method_handler(
                answers,
                request_deserializer=request_deserializer,
                response_serializer=response_serializer,
            )
        },
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)],
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class Stoppable(Protocol):
    """A running server (grpc.Server, or h2_peer.H2Peer)."""

    def stop(self, grace: float | None) -> object: ...


def serve_until_signalled(server: Stoppable, port: int) -> None:
    """Print the endpoint line benchmarks read, then serve until SIGINT or SIGTERM."""
    print(json.dumps({"grpc_endpoint": f"http://127.0.0.1:{port}"}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.stop(0)


def main() -> None:
    serve_until_signalled(
        *serve_stream(
            METHOD_PATH,
            _answers,
            EphemeralStreamRequest.FromString,
            EphemeralStreamResponse.SerializeToString,
        )
    )


if __name__ == "__main__":
    main()
