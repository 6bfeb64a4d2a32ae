"""Error messages and log lines say each thing once, on both drivers, along the real error paths.

Every path ends in what a user reads: the exception's text and the log lines written meanwhile.
None of them may repeat a phrase ("stream failed: stream failed with ..."), print "None" where
an id or a value belongs, or tell of a recovery when the stream simply closed.
"""

from __future__ import annotations

import itertools
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import grpc
import pytest

from tests.sdk.conftest import fast_options
from tests.sdk.drivers import AioDriver
from zerobus.errors import ZerobusException
from zerobus.schema.parse import schema_from_ddl
from zerobus.sdk.shared import StreamState, TableProperties
from zerobus.sdk.shared.unclosed import exit_loss_reason

Scenario = Callable[[Any, Any, str, ModuleType], list[str]]


def repeated_phrase(text: str) -> str | None:
    """A run of three words (or the words "stream failed") said twice in one message."""
    words = re.findall(r"[a-z0-9_']+", text.lower())
    seen: set[tuple[str, ...]] = set()
    for index in range(len(words) - 2):
        phrase = tuple(words[index : index + 3])
        if phrase in seen:
            return " ".join(phrase)
        seen.add(phrase)
    pairs = list(itertools.pairwise(words))
    for pair in (("stream", "failed"), ("failed", "with")):
        if pairs.count(pair) > 1:
            return " ".join(pair)
    return None


def problems(text: str) -> list[str]:
    found = []
    phrase = repeated_phrase(text)
    if phrase is not None:
        found.append(f"repeats {phrase!r}")
    if re.search(r"\bNone\b", text):
        found.append("says None")
    return found


@pytest.fixture
def log_lines(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], list[str]]]:
    caplog.set_level(logging.INFO, logger="zerobus")
    # The SDK's own lines: the in-process local server logs under zerobus.server.
    yield lambda: [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("zerobus") and not record.name.startswith("zerobus.server")
    ]


def _open(driver: Any, server: Any, table: str, descriptor: Any = None, **options: Any) -> Any:
    return driver.create_stream(
        server.client_id, server.client_secret, TableProperties(table, descriptor), fast_options(**options)
    )


def _raised(action: Callable[[], object]) -> str:
    with pytest.raises(ZerobusException) as caught:
        action()
    return str(caught.value)


def table_not_found(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    missing = "main.tests.no_such_table_for_messages"
    return [
        _raised(lambda: _open(driver, server, missing)),  # Unity Catalog says so
        _raised(lambda: _open(driver, server, missing, pb2.Event.DESCRIPTOR)),  # the server says so
    ]


def bad_credentials(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    return [
        _raised(lambda: driver.create_stream("nobody", "wrong", TableProperties(table), fast_options())),
        _raised(
            lambda: driver.create_stream(
                "nobody", "wrong", TableProperties(table, pb2.Event.DESCRIPTOR), fast_options()
            )
        ),
    ]


def schema_mismatch(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    other = schema_from_ddl("id BIGINT NOT NULL, name INT, extra STRING", table)
    return [_raised(lambda: _open(driver, server, table, other))]


def server_ends_the_call(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    stream = _open(driver, server, table)
    server.faults.fail_after(2, grpc.StatusCode.INVALID_ARGUMENT, "injected: 4044 bad value")
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(2)])
    stream.flush()  # the first two are acknowledged; the next request is refused
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(2, 4)])
    messages = [
        _raised(stream.flush),
        _raised(lambda: stream.ingest_record_offset({"id": 9})),
        _raised(lambda: stream.wait_for_offset(3)),
    ]
    with pytest.raises(ZerobusException) as caught:
        stream.close()
    return [*messages, str(caught.value), exit_loss_reason(caught.value, 1000)]


def timeouts(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    stream = _open(driver, server, table, flush_timeout_ms=200)
    server.faults.withhold_acks()
    try:
        offset = stream.ingest_record_offset({"id": 1})
        messages = [_raised(lambda: stream.wait_for_offset(offset, 0.1)), _raised(stream.flush)]
        with pytest.raises(ZerobusException) as caught:
            stream.close()
        messages += [str(caught.value), exit_loss_reason(caught.value, 200)]
    finally:
        server.faults.release_acks()
    return messages


def ingest_after_close(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    stream = _open(driver, server, table)
    stream.close()
    return [
        _raised(lambda: stream.ingest_record_offset({"id": 1})),
        _raised(lambda: stream.ingest_records_offset([{"id": 2}])),
    ]


def recovery_exhausted(driver: Any, server: Any, table: str, pb2: ModuleType) -> list[str]:
    server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=3)
    messages = [_raised(lambda: _open(driver, server, table, recovery_retries=1))]
    server.faults.reset()
    stream = _open(driver, server, table, recovery_retries=1)
    server.faults.fail_create(grpc.StatusCode.UNAVAILABLE, "injected: busy", times=5)
    server.faults.end_call_after(1, grpc.StatusCode.UNAVAILABLE, "injected: call ended")
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(3)])
    messages += [_raised(stream.flush), _raised(lambda: stream.ingest_record_offset({"id": 9}))]
    with pytest.raises(ZerobusException) as caught:
        stream.close()
    return [*messages, str(caught.value), exit_loss_reason(caught.value, 1000)]


SCENARIOS: dict[str, Scenario] = {
    "table-not-found": table_not_found,
    "bad-credentials": bad_credentials,
    "schema-mismatch": schema_mismatch,
    "server-ends-the-call": server_ends_the_call,
    "timeouts": timeouts,
    "ingest-after-close": ingest_after_close,
    "recovery-exhausted": recovery_exhausted,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_error_path_says_each_thing_once(
    scenario: str,
    driver: Any,
    zerobus_server: Any,
    events_table: str,
    events_pb2: ModuleType,
    log_lines: Callable[[], list[str]],
) -> None:
    messages = SCENARIOS[scenario](driver, zerobus_server, events_table, events_pb2)
    assert messages and all(messages)
    said = [*messages, *log_lines()]
    found = {text: problems(text) for text in said if problems(text)}
    assert not found, "\n".join(f"{problem}: {text}" for text, problem in found.items())


def test_a_normal_close_logs_no_recovery(
    driver: Any, zerobus_server: Any, events_table: str, log_lines: Callable[[], list[str]]
) -> None:
    stream = _open(driver, zerobus_server, events_table)
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(5)])
    stream.close()
    lines = [line.replace(events_table, "<table>") for line in log_lines()]  # the name says "recovery"
    assert any("closed" in line for line in lines), lines
    assert not [line for line in lines if re.search(r"recover|reconnect|retry", line, re.I)], "\n".join(lines)
    assert not [line for line in lines if problems(line)], lines


EXIT_SCRIPTS = {
    "sync-closed": """
from zerobus import TableProperties, ZerobusSdk
sdk = ZerobusSdk(endpoint, workspace)
with sdk.create_stream(client_id, secret, TableProperties(table)) as stream:
    stream.ingest_records_offset([{"id": i} for i in range(5)])
""",
    "sync-left-open": """
from zerobus import TableProperties, ZerobusSdk
sdk = ZerobusSdk(endpoint, workspace)
stream = sdk.create_stream(client_id, secret, TableProperties(table))
stream.ingest_records_offset([{"id": i} for i in range(5)])
""",
    "aio-closed": """
import asyncio
from zerobus.sdk.aio import ZerobusSdk
from zerobus.sdk.shared import TableProperties

async def main():
    sdk = ZerobusSdk(endpoint, workspace)
    async with await sdk.create_stream(client_id, secret, TableProperties(table)) as stream:
        await stream.ingest_records_offset([{"id": i} for i in range(5)])
    await sdk.close()

asyncio.run(main())
""",
}


@pytest.mark.parametrize("program", list(EXIT_SCRIPTS))
def test_a_program_that_ends_normally_logs_no_recovery(
    program: str, zerobus_server: Any, events_table: str, tmp_path: Any
) -> None:
    script = tmp_path / "program.py"
    script.write_text(
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "logging.getLogger('zerobus.server').setLevel(logging.WARNING)\n"
        "endpoint, workspace, client_id, secret, table = sys.argv[1:]\n" + EXIT_SCRIPTS[program]
    )
    server = zerobus_server
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            server.grpc_endpoint,
            server.workspace_url,
            server.client_id,
            server.client_secret,
            events_table,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line.replace(events_table, "<table>") for line in done.stderr.splitlines()]
    assert any("closed" in line for line in lines), done.stderr
    assert not [line for line in lines if re.search(r"recover|reconnect|retry|cancel", line, re.I)], (
        done.stderr
    )
    assert not [line for line in lines if problems(line)], done.stderr
    assert sorted(row["id"] for row in zerobus_server.rows(events_table)) == list(range(5))


def test_closing_the_sdk_under_an_open_stream_fails_it_at_once_without_a_recovery(
    driver: Any, zerobus_server: Any, events_table: str, log_lines: Callable[[], list[str]]
) -> None:
    stream = _open(driver, zerobus_server, events_table)
    zerobus_server.faults.withhold_acks()
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(5)])
    if isinstance(driver, AioDriver):
        driver.run(driver.sdk.close)
    else:
        driver.sdk.close()
    with pytest.raises(ZerobusException) as caught:
        stream.close()
    assert not problems(str(caught.value))
    assert str(stream.get_state()) == str(StreamState.FAILED)
    assert len(list(stream.get_unacked_records())) == 5  # kept for the caller
    lines = [line.replace(events_table, "<table>") for line in log_lines()]
    assert not [line for line in lines if re.search(r"recover|reconnect|retry", line, re.I)], lines
