"""From a Unity Catalog table to everything the SDK needs, with no protoc.

One schema IR, read from the table, rendered three ways that cannot disagree: proto2 text, a
protobuf descriptor built at runtime, and a typed Pydantic model. The `zerobus-codegen` CLI
writes the same files:

    zerobus-codegen table main.default.air_quality --out-dir generated/
    zerobus-codegen table main.default.air_quality --out-dir generated/ --check   # drift check in CI
    zerobus-codegen ddl "id BIGINT NOT NULL, tags ARRAY<STRING>" --name events

    python examples/codegen_walkthrough.py
"""

from __future__ import annotations

import datetime as dt
import tempfile

from example_settings import TABLE, example_target

from zerobus.codegen import (
    check_files,
    descriptor_proto,
    generate,
    load_schema,
    message_class,
    model_class,
    proto_text,
    schema_from_ddl,
    write_files,
)


def main() -> None:
    with example_target() as target:
        schema = load_schema(
            TABLE, host=target.workspace_url, client_id=target.client_id, client_secret=target.client_secret
        )
    for column in schema.columns:
        print(
            f"  {column.position}: {column.name} {column.type.type_text}{'' if column.nullable else ' NOT NULL'}"
        )

    print(proto_text(schema))  # what the official generate_proto tool writes

    descriptor = descriptor_proto(schema)  # what create_stream sends; equal to protoc's
    print(f"descriptor {descriptor.name}: {[f.name for f in descriptor.field]}")

    Message = message_class(schema)  # noqa: N806 (a class built at runtime in a private pool)
    message = Message(device_name="walkthrough", temp=21, measured_at=0)
    print(f"{len(message.SerializeToString())} bytes on the wire")

    Model = model_class(schema)  # noqa: N806
    row = Model.model_validate(
        {"device_name": "walkthrough", "measured_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}
    )
    print(f"model to wire: {row.to_wire()}")
    print(f"decoded back: {Model.from_proto_bytes(row.to_proto_bytes())!r}")

    with tempfile.TemporaryDirectory() as out_dir:
        files = generate(schema, out_dir)
        write_files(files)
        print("wrote " + ", ".join(f.path.name for f in files))
        print(f"drift after writing: {check_files(files)}")

    events = schema_from_ddl("id BIGINT NOT NULL, payload VARIANT, tags ARRAY<STRING>", "main.default.events")
    print(proto_text(events))


if __name__ == "__main__":
    main()
