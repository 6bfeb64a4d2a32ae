"""Dead letters (``StreamConfigurationOptions(dead_letters=...)``) against the real local server.

Every record ends up in exactly one place: the Delta table (read back with deltalake) or the
dead-letter sink, for refusals at the ingest call and for a stream that fails for good, on both
drivers, on streams and on pools.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from deltalake import DeltaTable

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver, SyncDriver
from zerobus.engine.state import StreamState
from zerobus.errors import ConfigurationError, InvalidRecordError, ZerobusException
from zerobus.sdk.shared import RecordType, TableProperties
from zerobus.sdk.shared.dead_letters import DeadLetter
from zerobus.server import LocalZerobusServer

Driver = SyncDriver | AioDriver
COLUMNS = "id BIGINT NOT NULL, name STRING"
TOO_LARGE = "x" * (11 * 1024 * 1024)


def open_target(driver: Driver, server: LocalZerobusServer, table: str, pool: bool, **options: Any) -> Any:
    """The real stream or pool of either driver (not a test proxy: the SDK's own objects)."""
    arguments = (server.client_id, server.client_secret, TableProperties(table), fast_options(**options))
    if pool:
        return call(driver, driver.sdk.create_stream_pool, *arguments, streams=1)
    return call(driver, driver.sdk.create_stream, *arguments)


def call(driver: Driver, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`function(*args)`, awaited in the driver's loop for asyncio."""
    if isinstance(driver, AioDriver):
        return driver.run(lambda: function(*args, **kwargs))
    return function(*args, **kwargs)


def delta_ids(server: LocalZerobusServer, table: str) -> list[int]:
    server.flush_materialization()
    path = server.table_path(table)
    if not (path / "_delta_log").exists():
        return []
    return sorted(DeltaTable(str(path)).to_pyarrow_table(columns=["id"]).column("id").to_pylist())


def read_letters(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def letter_id(entry: dict[str, Any]) -> int | None:
    """The id of a dead-lettered record, whatever form it was written in."""
    record = entry["record"]
    if entry["record_encoding"] == "text":
        record = json.loads(record)
    if entry["record_encoding"] == "base64":
        raise AssertionError(f"expected JSON records in this test, got {entry}")
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, int) else None


@pytest.mark.parametrize("pool", [False, True], ids=["stream", "pool"])
def test_refused_records_go_to_the_file_and_the_call_returns_none(
    driver: Driver,
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    tmp_path: Path,
    pool: bool,
) -> None:
    table = zerobus_table(COLUMNS)
    letters = tmp_path / "dead.jsonl"
    target = open_target(driver, zerobus_server, table, pool, dead_letters=str(letters))
    good = [{"id": i, "name": f"n{i}"} for i in range(6)]
    refused: list[Any] = [{"id": "seven"}, {"name": "no id"}, {"id": 8, "name": TOO_LARGE}, 12345]
    assert call(driver, target.ingest_record_offset, good[0]) is not None
    for record in refused:
        assert call(driver, target.ingest_record_offset, record) is None
    # A batch: the valid records are queued, the invalid ones dead-lettered.
    mixed = [good[1], {"id": None}, good[2], {"id": 2**70}]
    assert call(driver, target.ingest_records_offset, mixed) is not None
    call(driver, target.ingest_record_nowait, {"id": "nowait"})
    if not pool:
        assert call(driver, target.ingest_record, {"id": [1]}) is None
    for record in good[3:]:
        call(driver, target.ingest_record_offset, record)
    call(driver, target.flush)
    call(driver, target.close)

    assert delta_ids(zerobus_server, table) == list(range(6))
    entries = read_letters(letters)
    assert {entry["stage"] for entry in entries} == {"refused"}
    assert {entry["table"] for entry in entries} == {table}
    assert [entry["record"] for entry in entries[:2]] == [{"id": "seven"}, {"name": "no id"}]
    assert entries[0]["field"] == "id" and "seven" in entries[0]["reason"]
    assert entries[0]["error"] == "InvalidRecordError"
    assert "bytes" in entries[2]["reason"] and entries[2]["record"]["name"] == TOO_LARGE
    assert entries[3]["record"] == 12345
    assert [entry["record"] for entry in entries[4:7]] == [{"id": None}, {"id": 2**70}, {"id": "nowait"}]
    assert len(entries) == (7 if pool else 8)
    assert all(entry["offset"] is None and entry["timestamp"] for entry in entries)


def test_a_callable_sink_gets_each_dead_letter(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    received: list[DeadLetter] = []
    target = open_target(driver, zerobus_server, table, False, dead_letters=received.append)
    call(driver, target.ingest_record_offset, {"id": 1})
    assert call(driver, target.ingest_record_offset, {"id": "one"}) is None
    call(driver, target.close)
    [letter] = received
    assert letter.record == {"id": "one"} and letter.stage == "refused" and letter.table == table
    assert isinstance(letter.exception, InvalidRecordError)
    assert delta_ids(zerobus_server, table) == [1]


def arm_terminal_failure(server: LocalZerobusServer, failure: str) -> None:
    """After 30 records, the next request ends the call: for good, or until recovery gives up."""
    if failure == "non_retriable":
        server.faults.fail_after(30, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044 refused")
    else:
        server.faults.fail_after(30, grpc.StatusCode.UNAVAILABLE, "injected: call dropped")
        server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: no new stream", times=20)


@pytest.mark.parametrize("failure", ["non_retriable", "recovery_exhausted"])
@pytest.mark.parametrize("pool", [False, True], ids=["stream", "pool"])
@pytest.mark.parametrize("api", ["ingest_record_offset", "ingest_records_offset"])
def test_a_terminal_failure_sends_every_unacknowledged_record_once(
    driver: Driver,
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[..., str],
    tmp_path: Path,
    pool: bool,
    api: str,
    failure: str,
) -> None:
    table = zerobus_table(COLUMNS)
    letters = tmp_path / "dead.jsonl"
    target = open_target(
        driver,
        zerobus_server,
        table,
        pool,
        dead_letters=letters,
        record_type=RecordType.JSON,
        recovery=failure != "non_retriable",
        recovery_retries=2,
    )
    arm_terminal_failure(zerobus_server, failure)
    attempted: list[int] = []
    failures: list[ZerobusException] = []
    for start in range(0, 400, 4):
        chunk = [{"id": i, "name": f"n{i}"} for i in range(start, start + 4)]
        try:
            if start == 40:  # the fault counts the records of earlier requests
                call(driver, target.flush)
            if api == "ingest_record_offset":
                for record in chunk:
                    attempted.append(record["id"])
                    call(driver, target.ingest_record_offset, record)
            else:
                attempted.extend(record["id"] for record in chunk)
                call(driver, target.ingest_records_offset, chunk)
        except ZerobusException as error:
            failures.append(error)
            break
    for ending in (target.flush, target.close):
        try:
            call(driver, ending)
        except ZerobusException as error:
            failures.append(error)
    assert failures, "the failure was reported"

    stored = delta_ids(zerobus_server, table)
    entries = read_letters(letters)
    dead = [letter_id(entry) for entry in entries]
    assert {entry["stage"] for entry in entries} == {"unacknowledged"}
    # The server's 4044 (or, on grpc.aio, the INTERNAL that can replace it: grpc/grpc#36066).
    assert all("failed" in entry["reason"] for entry in entries), entries[:2]
    assert dead == sorted(dead), "in ingest order"
    assert len(dead) == len(set(dead)), "each once"
    assert not set(stored) & set(dead), "never both"
    assert sorted(stored + dead) == sorted(attempted), "never neither"  # type: ignore[type-var]
    assert 30 <= len(stored) <= 40 and stored == list(range(len(stored)))
    assert len(dead) > 0


def test_a_dead_letter_path_that_cannot_be_opened_fails_create_stream(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    with pytest.raises(ConfigurationError, match="cannot open the dead-letter file"):
        open_target(driver, zerobus_server, table, False, dead_letters=tmp_path / "missing" / "dead.jsonl")


def test_without_dead_letters_a_refusal_still_raises(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str]
) -> None:
    table = zerobus_table(COLUMNS)
    target = open_target(driver, zerobus_server, table, False)
    with pytest.raises(InvalidRecordError):
        call(driver, target.ingest_record_offset, {"id": "seven"})
    call(driver, target.close)


def test_protobuf_payloads_are_written_in_base64(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    letters = tmp_path / "dead.jsonl"
    target = open_target(driver, zerobus_server, table, False, dead_letters=letters, recovery=False)
    zerobus_server.faults.fail_after(0, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044")
    encoded = b"\x08\x07"  # id = 7, as protobuf bytes
    with pytest.raises(ZerobusException):
        call(driver, target.ingest_record_offset, encoded)
        call(driver, target.flush)
    with contextlib.suppress(ZerobusException):
        call(driver, target.close)
    [entry] = read_letters(letters)
    assert entry["record_encoding"] == "base64"
    assert base64.b64decode(entry["record"]) == encoded
    assert entry["offset"] == 0
    assert delta_ids(zerobus_server, table) == []


def test_get_unacked_records_and_recreate_stream_leave_out_what_was_dead_lettered(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    letters = tmp_path / "dead.jsonl"
    stream = open_target(
        driver,
        zerobus_server,
        table,
        False,
        dead_letters=letters,
        record_type=RecordType.JSON,
        recovery=False,
    )
    zerobus_server.faults.fail_after(0, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044")
    call(driver, stream.ingest_records_offset, [{"id": i} for i in range(5)])
    with pytest.raises(ZerobusException):
        call(driver, stream.flush)
    assert list(call(driver, stream.get_unacked_records)) == []
    assert list(call(driver, stream.get_unacked_batches)) == []
    new_stream = call(driver, driver.sdk.recreate_stream, stream)
    call(driver, new_stream.close)
    assert sorted(letter_id(entry) for entry in read_letters(letters)) == list(range(5))  # type: ignore[type-var]
    assert delta_ids(zerobus_server, table) == [], "nothing sent twice"


def test_a_pool_batch_with_only_refused_records_returns_an_empty_list(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    received: list[DeadLetter] = []
    pool = open_target(driver, zerobus_server, table, True, dead_letters=received.append)
    assert call(driver, pool.ingest_records_offset, [{"id": "a"}, {"id": "b"}]) == []
    call(driver, pool.close)
    assert [letter.record for letter in received] == [{"id": "a"}, {"id": "b"}]


def test_a_pool_with_a_failed_stream_still_refuses_records_one_by_one(
    driver: Driver, zerobus_server: LocalZerobusServer, zerobus_table: Callable[..., str], tmp_path: Path
) -> None:
    table = zerobus_table(COLUMNS)
    letters = tmp_path / "dead.jsonl"
    pool = call(
        driver,
        driver.sdk.create_stream_pool,
        zerobus_server.client_id,
        zerobus_server.client_secret,
        TableProperties(table),
        fast_options(dead_letters=letters, recovery=False),
        streams=2,
    )
    zerobus_server.faults.fail_after(0, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044")
    first = call(driver, pool.ingest_record_offset, {"id": 1})
    with pytest.raises(ZerobusException):  # woken by the stream's failure, on its own thread or task
        call(driver, pool.wait_for_offset, first, 30)
    assert StreamState.FAILED in pool.get_states()
    assert call(driver, pool.ingest_record_offset, {"id": "two"}) is None
    call(driver, pool.ingest_record_offset, {"id": 3})
    with contextlib.suppress(ZerobusException):
        call(driver, pool.flush)
    with contextlib.suppress(ZerobusException):
        call(driver, pool.close)
    entries = read_letters(letters)
    assert [(entry["stage"], entry["record"]) for entry in entries] == [
        ("refused", {"id": "two"}),  # at its ingest call
        ("unacknowledged", base64.b64encode(b"\x08\x01").decode()),  # {"id": 1} as protobuf, at flush
    ], entries
    assert delta_ids(zerobus_server, table) == [3]
