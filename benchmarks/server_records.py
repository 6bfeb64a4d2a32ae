"""Benchmark of the local server's record checks alone: CPU per record of one 1000-record request.

Decoding and checking a request, the way the stream handler does it (`parse_request` then
`check_batch`), against the reference path in the same process (the request decoded with the
plain protocol class, then `reference_check` on each record: decoded, turned into a wire row,
checked with `wire_row_check`; this was the server's only path before the fast ones). The fast
path must agree with it (tests/server/test_record_checks.py); this shows by how much it is
cheaper. No network, no log: see server_throughput.py for those.

    .venv/bin/python benchmarks/server_records.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from zerobus.protocol import EphemeralStreamRequest
from zerobus.schema.descriptor import descriptor_proto, message_builder
from zerobus.schema.ir import TableSchema
from zerobus.schema.parse import schema_from_ddl
from zerobus.server.validation.records import JsonRecordCodec, ProtoRecordCodec
from zerobus.server.validation.schema_check import compile_descriptor

BATCH = 1000
BASE_TS = 1_700_000_000_000_000
TABLES: dict[str, tuple[str, Callable[[int], dict[str, Any]]]] = {
    # The SDK benchmark's table: one TIMESTAMP range check per record.
    "events (sdk benchmark)": (
        "id BIGINT NOT NULL, device STRING, value DOUBLE, ts TIMESTAMP, ok BOOLEAN",
        lambda i: {
            "id": i,
            "device": f"device-{i % 100:03d}",
            "value": i * 0.5,
            "ts": BASE_TS + i,
            "ok": i % 2 == 0,
        },
    ),
    # The server benchmark's table: TIMESTAMP and SMALLINT range checks.
    "server benchmark": (
        "id BIGINT NOT NULL, name STRING, value DOUBLE, ts TIMESTAMP, small SMALLINT",
        lambda i: {
            "id": i,
            "name": f"name-{i % 100}",
            "value": i * 0.5,
            "ts": BASE_TS + i,
            "small": i % 1000,
        },
    ),
    # Checks inside structs, arrays and maps, DECIMAL text and VARCHAR lengths.
    "nested": (
        "id BIGINT NOT NULL, code VARCHAR(8), amount DECIMAL(10,2), day DATE, "
        "loc STRUCT<lat: DOUBLE NOT NULL, at: TIMESTAMP>, pts ARRAY<STRUCT<x: SMALLINT>>, "
        "tags MAP<STRING, TINYINT>",
        lambda i: {
            "id": i,
            "code": f"c{i % 1000}",
            "amount": f"{i}.25",
            "day": 19000 + i % 1000,
            "loc": {"lat": 1.5, "at": BASE_TS + i},
            "pts": [{"x": i % 100}, {"x": 7}],
            "tags": {"a": 1, "b": i % 100},
        },
    ),
}


def proto_request(
    schema: TableSchema, make: Callable[[int], dict[str, Any]]
) -> tuple[ProtoRecordCodec, bytes]:
    compiled = compile_descriptor(descriptor_proto(schema).SerializeToString(), schema)
    build = message_builder(compiled.message_class)
    request = EphemeralStreamRequest()
    request.ingest_record_batch.proto_encoded_batch.records.extend(
        build(make(i)).SerializeToString() for i in range(BATCH)
    )
    return ProtoRecordCodec(schema, compiled), bytes(request.SerializeToString())


def json_request(make: Callable[[int], dict[str, Any]]) -> bytes:
    request = EphemeralStreamRequest()
    request.ingest_record_batch.json_batch.records.extend(json.dumps(make(i)) for i in range(BATCH))
    return bytes(request.SerializeToString())


def us_per_record(run: Callable[[], None], rounds: int) -> float:
    run()  # warm up (and fail loudly if the request is rejected)
    started = time.process_time()
    for _ in range(rounds):
        run()
    return (time.process_time() - started) / rounds / BATCH * 1e6


def measure(name: str, schema: TableSchema, make: Callable[[int], dict[str, Any]], rounds: int) -> None:
    proto_codec, proto_raw = proto_request(schema, make)
    json_codec, json_raw = JsonRecordCodec(schema), json_request(make)

    def fast_proto() -> None:
        proto_codec.check_batch(proto_codec.parse_request(proto_raw).ingest_record_batch.proto_encoded_batch)

    def reference_proto() -> None:
        batch = EphemeralStreamRequest.FromString(proto_raw).ingest_record_batch.proto_encoded_batch
        for record in batch.records:
            proto_codec.reference_check(record)

    def fast_json() -> None:
        json_codec.check_batch(json_codec.parse_request(json_raw).ingest_record_batch.json_batch)

    def reference_json() -> None:
        batch = EphemeralStreamRequest.FromString(json_raw).ingest_record_batch.json_batch
        for record in batch.records:
            json_codec.reference_check(record)

    for kind, fast, reference in (
        ("PROTO", fast_proto, reference_proto),
        ("JSON", fast_json, reference_json),
    ):
        fast_us = us_per_record(fast, rounds)
        reference_us = us_per_record(reference, max(1, rounds // 4))
        print(f"{name:<24} {kind:<6} {fast_us:>12.3f} {reference_us:>17.3f} {reference_us / fast_us:>8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="requests decoded and checked per case")
    options = parser.parse_args()
    print(f"{'table':<24} {'kind':<6} {'fast us/rec':>12} {'reference us/rec':>17} {'speed-up':>9}")
    for name, (columns, make) in TABLES.items():
        measure(name, schema_from_ddl(columns, "bench.server.records"), make, options.rounds)


if __name__ == "__main__":
    main()
