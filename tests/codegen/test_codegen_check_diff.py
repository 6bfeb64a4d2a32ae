"""`zerobus-codegen ... --check` shows what a run without it would change, as a unified diff."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from zerobus.codegen.cli import ExitCode, main

NAME = "main.default.trades"


def _ddl(columns: str, out_dir: Path, *more: str) -> Result:
    return CliRunner().invoke(
        main, ["ddl", columns, "--name", NAME, "--out-dir", str(out_dir), *more], catch_exceptions=False
    )


def test_check_prints_a_unified_diff_of_each_file_that_would_change(tmp_path: Path) -> None:
    assert _ddl("id BIGINT NOT NULL, name STRING", tmp_path).exit_code == 0
    before = {path: path.read_bytes() for path in tmp_path.iterdir()}
    result = _ddl("id BIGINT NOT NULL, name STRING, price DOUBLE", tmp_path, "--check")
    assert result.exit_code == ExitCode.DRIFT
    proto = tmp_path / "trades.proto"
    assert f"--- {proto} (on disk)" in result.output and f"+++ {proto} (generated)" in result.output
    added = [line for line in result.output.splitlines() if line.startswith("+") and "price" in line]
    assert added, result.output
    assert "optional double price = 3;" in added[0]
    assert {path: path.read_bytes() for path in tmp_path.iterdir()} == before, "--check writes nothing"


def test_check_diffs_a_missing_file_against_nothing(tmp_path: Path) -> None:
    result = _ddl("id BIGINT NOT NULL", tmp_path, "--check", "--descriptor-set")
    assert result.exit_code == ExitCode.DRIFT
    assert "--- /dev/null" in result.output and '+syntax = "proto2";' in result.output
    assert f"Binary file {tmp_path / 'trades.desc'} differs (missing on disk" in result.output
    assert not list(tmp_path.iterdir())
