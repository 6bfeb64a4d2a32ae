"""`zerobus-emulator`: errors a person can act on, table definitions across restarts, drop-table, reset, env."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.server.wire_client import open_stream
from zerobus.server import LocalZerobusServer
from zerobus.server.cli import main
from zerobus.server.cli_support import ExitStatus
from zerobus.server.ports import PortInUse
from zerobus.server.running_server import SERVER_FILE, write_server_file
from zerobus.server.storage.declared_tables import TableDefinitionConflict

NOWHERE = {"DATABRICKS_HOST": "http://127.0.0.1:9"}  # discard port: nothing answers there


def _cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or NOWHERE, input=stdin)


def _one_error_line(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


# --- busy ports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--grpc-port", "--http-port"])
def test_a_busy_port_is_one_line_naming_port_and_option_with_its_own_status(option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = "--http-port" if option == "--grpc-port" else "--grpc-port"
        result = _cli("start", "--in-memory", option, str(port), other, "0")
    assert result.exit_code == ExitStatus.PORT_IN_USE
    line = _one_error_line(result)
    assert str(port) in line and option in line and "in use" in line


def test_a_busy_port_raises_port_in_use_from_the_library() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LocalZerobusServer(http_port=port)
        with pytest.raises(PortInUse) as raised:
            server.start()
    assert raised.value.port == port and raised.value.what == "HTTP"


# --- bad input: one status per class ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["start", "--in-memory", "--table", "main.default: id BIGINT"], ExitStatus.BAD_NAME),
        (["start", "--in-memory", "--table", "main.default.t id BIGINT"], ExitStatus.BAD_TABLE_DEFINITION),
        (["start", "--in-memory", "--table", "main.default.t: id INTERVAL"], ExitStatus.BAD_TABLE_DEFINITION),
        (["drop-table", "main.default.t.x"], ExitStatus.BAD_NAME),
        (["rows", "main..t"], ExitStatus.BAD_NAME),
        (["create-table", "main.default.t", "id NOPE"], ExitStatus.BAD_TABLE_DEFINITION),
        (["tables"], ExitStatus.SERVER_UNREACHABLE),
        (["stats"], ExitStatus.SERVER_UNREACHABLE),
        (["start", "--in-memory", "--log-level", "loud"], ExitStatus.USAGE),
    ],
)
def test_each_class_of_mistake_has_its_status_and_one_line(args: list[str], status: ExitStatus) -> None:
    result = _cli(*args)
    assert result.exit_code == status, result.output
    if status != ExitStatus.USAGE:
        _one_error_line(result)


def test_the_help_lists_the_exit_statuses() -> None:
    for command in ([], ["start"], ["rows"], ["drop-table"]):
        text = _cli(*command, "--help").output
        assert "Exit status:" in text and "5 port in use" in text and "7 server unreachable" in text


# --- restarting with another --table definition -------------------------------------------------

TABLE = "main.default.readings"


def _seed(data_dir: Path) -> None:
    with LocalZerobusServer(data_dir=data_dir, tables={TABLE: "id BIGINT NOT NULL, temp INT"}) as server:
        server.create_table("main.default.other", "x STRING")


def test_restarting_with_other_columns_is_refused_naming_each_difference(tmp_path: Path) -> None:
    _seed(tmp_path)
    with pytest.raises(TableDefinitionConflict) as raised:
        LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT, temp BIGINT, site STRING"}).start()
    differences = raised.value.differences
    assert differences == [
        "column id is bigint NOT NULL, declared id bigint",
        "column temp is int, declared temp bigint",
        "column site string is new",
    ]
    # The same declaration (comments aside, names case-insensitive) is accepted and changes nothing.
    with LocalZerobusServer(
        data_dir=tmp_path, tables={"MAIN.default.readings": "id BIGINT NOT NULL COMMENT 'x', temp INT"}
    ) as server:
        assert [c.type.type_text for c in server.table_schema(TABLE).columns] == ["bigint", "int"]


def test_the_cli_refuses_a_changed_table_with_status_6_and_how_to_fix_it(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = _cli(
        "start", "--data-dir", str(tmp_path), "--grpc-port", "0", "--http-port", "0",
        "--table", f"{TABLE}: id BIGINT NOT NULL",
    )  # fmt: skip
    assert result.exit_code == ExitStatus.TABLE_CONFLICT
    line = _one_error_line(result)
    assert "column temp is not declared" in line
    assert f"zerobus-emulator drop-table {TABLE} --data-dir {tmp_path}" in line and "reset" in line
    # Following the advice works: drop it on the stopped server's directory, then start again.
    dropped = _cli("drop-table", TABLE, "--data-dir", str(tmp_path))
    assert dropped.exit_code == 0, dropped.output
    with LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT NOT NULL"}) as server:
        assert [c.name for c in server.table_schema(TABLE).columns] == ["id"]
        assert server.table_names() == ["main.default.other", TABLE]


# --- drop-table and reset -----------------------------------------------------------------------


def test_drop_table_and_reset_through_a_running_server(tmp_path: Path) -> None:
    with LocalZerobusServer(
        data_dir=tmp_path, tables={TABLE: "id BIGINT", "main.default.b": "id BIGINT"}
    ) as server:
        env = {"DATABRICKS_HOST": server.workspace_url}
        result = _cli("drop-table", TABLE, env=env)
        assert result.exit_code == 0 and f"dropped {TABLE}" in result.output
        assert server.table_names() == ["main.default.b"]
        again = _cli("drop-table", TABLE, env=env)
        assert again.exit_code == ExitStatus.REFUSED and "TABLE_DOES_NOT_EXIST" in _one_error_line(again)
        refused = _cli("reset", env=env, stdin="n\n")
        assert refused.exit_code == 1 and server.table_names() == ["main.default.b"]
        result = _cli("reset", "--yes", env=env)
        assert result.exit_code == 0 and "dropped 1 table(s)" in result.output
        assert server.table_names() == []


def test_reset_with_no_answer_to_its_question_says_to_pass_yes(tmp_path: Path) -> None:
    _seed(tmp_path)
    for args in (["reset", "--data-dir", str(tmp_path)], ["reset"]):
        result = _cli(*args)  # standard input at its end: no terminal to ask on
        assert result.exit_code == ExitStatus.USAGE, result.output
        assert result.stderr.strip() == (
            "Error: reset deletes every table's data and got no answer to confirm it: pass --yes"
        )
    with LocalZerobusServer(data_dir=tmp_path) as server:
        assert TABLE in server.table_names()


def test_reset_of_a_stopped_data_dir_keeps_credentials_and_ca(tmp_path: Path) -> None:
    _seed(tmp_path)
    result = _cli("reset", "--data-dir", str(tmp_path), "--yes")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "auth").is_dir() and not (tmp_path / "tables").exists()
    with LocalZerobusServer(data_dir=tmp_path) as server:
        assert server.table_names() == []


def test_offline_commands_refuse_a_data_dir_a_server_runs_on(tmp_path: Path) -> None:
    _seed(tmp_path)
    write_server_file(tmp_path / SERVER_FILE, {"workspace_url": "http://127.0.0.1:1"})  # this process: alive
    for args in (
        ["drop-table", TABLE, "--data-dir", str(tmp_path)],
        ["reset", "--data-dir", str(tmp_path), "--yes"],
    ):
        result = _cli(*args)
        assert result.exit_code == ExitStatus.DATA_DIR_IN_USE
        assert f"pid {os.getpid()}" in _one_error_line(result)
    with LocalZerobusServer(data_dir=tmp_path) as server:
        assert TABLE in server.table_names()
    missing = _cli("drop-table", TABLE, "--data-dir", str(tmp_path / "nothing"))
    assert missing.exit_code == ExitStatus.REFUSED and "no emulator data" in _one_error_line(missing)


# --- env ----------------------------------------------------------------------------------------


def test_env_prints_the_four_exports_from_a_ready_file_or_ports(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    document = {
        "grpc_endpoint": "http://127.0.0.1:5001",
        "workspace_url": "http://127.0.0.1:5002",
        "client_id": "id",
        "client_secret": "s e'cret",
        "ca_file": None,
    }
    ready.write_text(json.dumps(document))
    from_file = _cli("env", "--ready-file", str(ready))
    assert from_file.exit_code == 0, from_file.output
    assert from_file.output.splitlines() == [
        "export ZEROBUS_SERVER_ENDPOINT=http://127.0.0.1:5001",
        "export DATABRICKS_HOST=http://127.0.0.1:5002",
        "export DATABRICKS_CLIENT_ID=id",
        "export DATABRICKS_CLIENT_SECRET='s e'\"'\"'cret'",
    ]
    from_ports = _cli("env", "--grpc-port", "5001", "--http-port", "5002")
    assert "export ZEROBUS_SERVER_ENDPOINT=http://127.0.0.1:5001" in from_ports.output
    assert "export DATABRICKS_HOST=http://127.0.0.1:5002" in from_ports.output
    none = _cli("env", "--data-dir", str(tmp_path))
    assert none.exit_code == ExitStatus.SERVER_UNREACHABLE and "no emulator runs" in _one_error_line(none)
    assert _cli("env", "--grpc-port", "5001").exit_code == ExitStatus.USAGE


# --- table folders ------------------------------------------------------------------------------


def test_table_data_lives_in_a_folder_named_after_the_table(tmp_path: Path) -> None:
    with LocalZerobusServer(data_dir=tmp_path) as server:
        server.create_table("Main.Default.Events", "id BIGINT")
        first = server.table_path("main.default.events").parent
        server.drop_table("main.default.events")
        server.create_table("con.default.t", "id BIGINT")
        server.create_table("main.default.events", "id BIGINT")
        second = server.table_path("main.default.events").parent
        reserved = server.table_path("con.default.t").parent
    assert first.parent == tmp_path / "tables" and first.name.startswith("main.default.events-")
    assert second.name.startswith("main.default.events-") and second != first, "a new creation, a new folder"
    assert not first.exists() and reserved.name.startswith("_con.default.t-")


def test_data_dirs_of_earlier_versions_keep_their_id_folders(tmp_path: Path) -> None:
    """An entry without "directory" (written before folders were named) still finds its data."""
    with LocalZerobusServer(data_dir=tmp_path, tables={TABLE: "id BIGINT"}) as server:
        with open_stream(server, TABLE, json=True) as stream:
            stream.wait_created()
            stream.batch(0, [json.dumps({"id": i}) for i in range(3)])
            assert stream.wait_acked(0)
        named = server.table_path(TABLE).parent
    (entry_file,) = (tmp_path / "catalog").glob("*.json")
    record = json.loads(entry_file.read_text())
    del record["directory"]
    entry_file.write_text(json.dumps(record))
    named.rename(tmp_path / "tables" / record["table_id"])
    with LocalZerobusServer(data_dir=tmp_path) as server:
        assert server.table_path(TABLE).parent.name == record["table_id"]
        assert server.rows(TABLE) == [{"id": 0}, {"id": 1}, {"id": 2}]
