"""One server per data directory: a second server on the same directory is refused, never started."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from zerobus.server import LocalZerobusServer
from zerobus.server.cli import main
from zerobus.server.cli_support import ExitStatus
from zerobus.server.storage.data_dir_lock import DataDirInUse

TABLE = {"main.default.t": "id BIGINT"}


def test_a_second_server_on_the_same_directory_is_refused_and_the_first_keeps_serving(
    tmp_path: Path,
) -> None:
    first = LocalZerobusServer(data_dir=tmp_path, tables=TABLE)
    first.start()
    try:
        second = LocalZerobusServer(data_dir=tmp_path, tables=TABLE)
        with pytest.raises(DataDirInUse) as raised:
            second.start()
        assert str(tmp_path) in str(raised.value) and "--data-dir" in str(raised.value)
        assert "main.default.t" in first.table_names() and first.rows("main.default.t") == []
    finally:
        first.stop()
    # Released at stop: the directory opens again.
    again = LocalZerobusServer(data_dir=tmp_path, tables=TABLE)
    again.start()
    again.stop()


def test_the_cli_refuses_a_directory_in_use_with_one_line_and_status_9(tmp_path: Path) -> None:
    first = LocalZerobusServer(data_dir=tmp_path, tables=TABLE)
    first.start()
    try:
        result = CliRunner().invoke(
            main, ["start", "--data-dir", str(tmp_path), "--grpc-port", "0", "--http-port", "0"]
        )
    finally:
        first.stop()
    assert result.exit_code == ExitStatus.DATA_DIR_IN_USE, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "in use" in lines[0]


def test_a_lock_held_by_a_killed_process_is_released_by_the_os(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from zerobus.server.storage.data_dir_lock import DataDirLock; "
            "lock = DataDirLock(Path(sys.argv[1])); print('locked', flush=True); sys.stdin.read()",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataDirInUse) as raised:
            LocalZerobusServer(data_dir=tmp_path, tables=TABLE).start()
        assert f"pid {holder.pid}" in str(raised.value)
    finally:
        holder.kill()
        holder.wait(30)
    server = LocalZerobusServer(data_dir=tmp_path, tables=TABLE)
    server.start()
    server.stop()
