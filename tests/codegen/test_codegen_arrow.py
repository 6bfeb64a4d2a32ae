"""The table's Arrow schema: the type contract, `TableSchema.arrow_schema()` and `--arrow`."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner

from zerobus.codegen import schema_from_ddl
from zerobus.codegen.api import load_schema
from zerobus.codegen.cli import ExitCode, main
from zerobus.errors import ConfigurationError
from zerobus.schema.arrow_types import arrow_schema


@pytest.mark.parametrize(
    ("ddl_type", "expected"),
    [
        ("TINYINT", pa.int8()),
        ("SMALLINT", pa.int16()),
        ("INT", pa.int32()),
        ("BIGINT", pa.int64()),
        ("FLOAT", pa.float32()),
        ("DOUBLE", pa.float64()),
        ("BOOLEAN", pa.bool_()),
        ("STRING", pa.string()),
        ("VARCHAR(10)", pa.string()),
        ("CHAR(3)", pa.string()),
        ("BINARY", pa.binary()),
        ("DECIMAL(10,2)", pa.decimal128(10, 2)),
        ("DECIMAL(38,0)", pa.decimal128(38, 0)),
        ("DATE", pa.date32()),
        ("TIMESTAMP", pa.timestamp("us", tz="UTC")),
        ("TIMESTAMP_NTZ", pa.timestamp("us")),
        ("VARIANT", pa.string()),
        ("ARRAY<STRING>", pa.list_(pa.field("element", pa.string()))),
        ("MAP<STRING,BIGINT>", pa.map_(pa.string(), pa.int64())),
        (
            "STRUCT<a: INT NOT NULL, b: ARRAY<DATE>>",
            pa.struct(
                [pa.field("a", pa.int32(), nullable=False), ("b", pa.list_(pa.field("element", pa.date32())))]
            ),
        ),
    ],
)
def test_each_delta_type_has_its_arrow_type(ddl_type: str, expected: pa.DataType) -> None:
    schema = schema_from_ddl(f"c {ddl_type}", "main.default.t")
    assert schema.arrow_schema().field("c").type == expected


def test_not_null_columns_are_non_nullable_fields_in_table_order() -> None:
    schema = load_schema("main.default.t", ddl="b STRING, a BIGINT NOT NULL")
    assert schema.arrow_schema() == pa.schema([("b", pa.string()), pa.field("a", pa.int64(), nullable=False)])


def test_without_pyarrow_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyarrow" or name.startswith("pyarrow."):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ConfigurationError, match=r"pip install 'zerobus-toolkit\[arrow\]'"):
        arrow_schema(schema_from_ddl("a INT", "main.default.t"))


def test_cli_arrow_writes_the_ipc_schema_and_prints_it(tmp_path: Path) -> None:
    columns = "id BIGINT NOT NULL, at TIMESTAMP, tags ARRAY<STRING>"
    args = ["ddl", columns, "--name", "main.default.trades", "--out-dir", str(tmp_path), "--arrow"]
    result = CliRunner().invoke(main, [*args, "--no-proto", "--no-models"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["trades.arrow_schema"]
    expected = schema_from_ddl(columns, "main.default.trades").arrow_schema()
    assert pa.ipc.read_schema(pa.py_buffer((tmp_path / "trades.arrow_schema").read_bytes())) == expected
    assert "at: timestamp[us, tz=UTC]" in result.output
    check = CliRunner().invoke(main, [*args, "--no-proto", "--no-models", "--check"], catch_exceptions=False)
    assert check.exit_code == ExitCode.OK, check.output


def test_cli_arrow_against_the_local_server_matches_what_it_accepts(
    zerobus_server: Any, zerobus_table: Any, tmp_path: Path
) -> None:
    table = zerobus_table("id BIGINT NOT NULL, price DECIMAL(10,2), day DATE")
    result = CliRunner().invoke(
        main,
        [
            "table",
            table,
            "--host",
            zerobus_server.workspace_url,
            "--client-id",
            zerobus_server.client_id,
            "--client-secret",
            zerobus_server.client_secret,
            "--arrow",
            "--no-proto",
            "--no-models",
            "--out-dir",
            str(tmp_path),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "price: decimal128(10, 2)" in result.output
    assert "day: date32[day]" in result.output
