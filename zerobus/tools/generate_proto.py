"""The official SDK's ``generate_proto`` command line, on this package's codegen.

    python -m zerobus.tools.generate_proto --uc-endpoint https://<workspace> --client-id ID \\
        --client-secret SECRET --table catalog.schema.table --output table.proto [--proto-msg Name]

Same flags, same output file (byte-identical .proto for every schema the official tool
supports; DECIMAL, CHAR and the other spellings of section 7 work too), same messages and exit
status 1 on failure. The official module's helper functions (`get_proto_field_info`,
`generate_proto_file`, `parse_struct_type` ...) are here too, on the same codegen
(`zerobus.tools.proto_helpers`). ``zerobus-codegen`` does more: models, descriptor sets, --check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from zerobus.codegen.api import load_schema, proto_text
from zerobus.codegen.output_files import GeneratedFile, OutputError, write_files
from zerobus.errors import SchemaError, ZerobusException
from zerobus.tools.proto_helpers import (
    extract_columns,
    fetch_table_info,
    generate_proto_file,
    get_oauth_token,
    get_proto_field_info,
    parse_array_type,
    parse_map_type,
    parse_struct_type,
    to_pascal_case,
    validate_field_name,
)

__all__ = [
    "build_parser",
    "extract_columns",
    "fetch_table_info",
    "generate_proto_file",
    "get_oauth_token",
    "get_proto_field_info",
    "main",
    "parse_args",
    "parse_array_type",
    "parse_map_type",
    "parse_struct_type",
    "to_pascal_case",
    "validate_field_name",
]

EPILOG = """\
Type mappings (Delta -> proto2):
    TINYINT/BYTE, SMALLINT/SHORT, INT/INTEGER, DATE -> int32
    BIGINT/LONG, TIMESTAMP, TIMESTAMP_NTZ           -> int64
    FLOAT/REAL -> float, DOUBLE -> double, BOOLEAN -> bool, BINARY -> bytes
    STRING, VARCHAR(n), CHAR(n), DECIMAL(p,s), VARIANT -> string
    ARRAY<T> -> repeated T, MAP<K,V> -> map<K, V>, STRUCT<...> -> nested message
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zerobus.tools.generate_proto",
        description="Generate a proto2 file from a Unity Catalog table's schema.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--uc-endpoint", required=True, help="Workspace URL, e.g. https://<workspace>.cloud.databricks.com"
    )
    parser.add_argument(
        "--client-id", required=True, help="OAuth client ID (service principal application ID)"
    )
    parser.add_argument("--client-secret", required=True, help="OAuth client secret")
    parser.add_argument("--table", required=True, help="Full table name: catalog.schema.table_name")
    parser.add_argument("--output", required=True, help="Path of the .proto file to write")
    parser.add_argument("--proto-msg", help="Name of the protobuf message (defaults to the table name)")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line (`sys.argv` unless `argv` is given), as the official tool reads it."""
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        schema = load_schema(
            args.table, host=args.uc_endpoint, client_id=args.client_id, client_secret=args.client_secret
        )
        text = proto_text(schema, args.proto_msg or args.table.split(".")[-1])
        write_files([GeneratedFile(Path(args.output), text.encode("utf-8"), "proto")])
    except SchemaError as error:
        print(f"Error mapping column type: {error}", file=sys.stderr)
        return 1
    except OutputError as error:
        print(f"Error writing proto file: {error}", file=sys.stderr)
        return 1
    except ZerobusException as error:
        print(f"Error making request to Unity Catalog: {error}", file=sys.stderr)
        return 1
    print(f"Successfully generated proto file at: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
