"""One token/grant matrix through the three front-ends: gRPC, Flight DoPut and the REST API agree.

Each front-end only translates the decision core's answer (`zerobus.server.decisions`) into its
wire's status, so the same credentials give the same verdict everywhere: accepted, refused as
unauthenticated, or refused as not permitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import grpc
import pyarrow as pa
import pyarrow.flight as flight
import pytest
import requests

from tests.server.flight_client import FlightPut
from tests.server.wire_client import WireStream, ingest_token
from zerobus.schema.descriptor import descriptor_proto
from zerobus.server import LocalZerobusServer
from zerobus.server.identity.auth import Grant

OK, UNAUTHENTICATED, DENIED = "ok", "unauthenticated", "permission denied"


@dataclass(frozen=True)
class Credentials:
    """What a client presents: the authorization header value (None: no header)."""

    authorization: str | None


CredentialsFor = Callable[[LocalZerobusServer, str, str], Credentials]


def _no_header(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials(None)


def _basic_scheme(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials("Basic " + ingest_token(server, table))


def _unknown_token(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials("Bearer not-a-token")


def _tampered_token(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    token = ingest_token(server, table)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    return Credentials(f"Bearer {flipped}")


def _principal_removed(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    client_id = f"matrix-gone-{table.rsplit('.', 1)[1]}"
    server.add_principal(client_id, "secret", [Grant("*", ["ALL PRIVILEGES"])])
    token = ingest_token(server, table, client_id=client_id, client_secret="secret")
    server.remove_principal(client_id)
    return Credentials(f"Bearer {token}")


def _token_for_this_table(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials(f"Bearer {ingest_token(server, table)}")


def _lowercase_bearer(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials(f"bearer {ingest_token(server, table)}")


def _token_for_another_table(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    return Credentials(f"Bearer {ingest_token(server, other)}")


def _grant_revoked(server: LocalZerobusServer, table: str, other: str) -> Credentials:
    client_id = f"matrix-revoked-{table.rsplit('.', 1)[1]}"
    server.add_principal(client_id, "secret", [Grant("*", ["ALL PRIVILEGES"])])
    token = ingest_token(server, table, client_id=client_id, client_secret="secret")
    server.add_principal(client_id, "secret", [Grant(other, ["ALL PRIVILEGES"])])
    return Credentials(f"Bearer {token}")


MATRIX: list[tuple[CredentialsFor, str]] = [
    (_no_header, UNAUTHENTICATED),
    (_basic_scheme, UNAUTHENTICATED),
    (_unknown_token, UNAUTHENTICATED),
    (_tampered_token, UNAUTHENTICATED),
    (_principal_removed, UNAUTHENTICATED),
    (_token_for_this_table, OK),
    (_lowercase_bearer, OK),
    (_token_for_another_table, DENIED),
    (_grant_revoked, DENIED),
]


def _headers(credentials: Credentials, table: str) -> list[tuple[str, str]]:
    headers = [("x-databricks-zerobus-table-name", table)]
    if credentials.authorization is not None:
        headers.append(("authorization", credentials.authorization))
    return headers


def _grpc_verdict(server: LocalZerobusServer, table: str, credentials: Credentials) -> str:
    schema = server.table_schema(table)
    with WireStream(server, _headers(credentials, table)) as stream:
        stream.create(table, descriptor_proto(schema).SerializeToString())
        assert stream.wait_for(lambda: stream.stream_id is not None or stream.done)
        if stream.stream_id is not None:
            return OK
        code = stream.code()
    return {grpc.StatusCode.UNAUTHENTICATED: UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED: DENIED}[code]


def _flight_verdict(server: LocalZerobusServer, table: str, credentials: Credentials) -> str:
    headers = [(key.encode(), value.encode()) for key, value in _headers(credentials, table)]
    put = FlightPut(server, pa.schema([("id", pa.int64())]), headers)
    try:
        ready = put.result()
        if ready is None:  # the call ended before its ready signal: its status says why
            put.status()
        assert ready == {"ack_up_to_offset": -1, "ack_up_to_records": 0}
        return OK
    except flight.FlightUnauthenticatedError:
        return UNAUTHENTICATED
    except flight.FlightUnauthorizedError:
        return DENIED
    finally:
        put.close()


def _http_verdict(server: LocalZerobusServer, table: str, credentials: Credentials) -> str:
    headers = dict(_headers(credentials, table))
    response = requests.get(
        f"{server.workspace_url}/api/2.1/unity-catalog/tables/{table}", headers=headers, timeout=10
    )
    verdicts = {200: OK, 401: UNAUTHENTICATED, 403: DENIED}
    assert response.status_code in verdicts, response.text
    return verdicts[response.status_code]


@pytest.mark.parametrize(
    ("credentials_for", "expected"), MATRIX, ids=[case.__name__.lstrip("_") for case, _ in MATRIX]
)
@pytest.mark.parametrize(
    "front_end", [_grpc_verdict, _flight_verdict, _http_verdict], ids=["grpc", "flight", "http"]
)
def test_every_front_end_gives_the_same_verdict(
    zerobus_server: LocalZerobusServer,
    zerobus_table: Callable[[str], str],
    credentials_for: CredentialsFor,
    expected: str,
    front_end: Callable[[LocalZerobusServer, str, Credentials], str],
) -> None:
    table = zerobus_table("id BIGINT")
    other = zerobus_table("id BIGINT")
    credentials = credentials_for(zerobus_server, table, other)
    assert front_end(zerobus_server, table, credentials) == expected


def test_ingest_needs_an_ingest_token_where_reading_does_not(
    zerobus_server: LocalZerobusServer, zerobus_table: Callable[[str], str]
) -> None:
    """The one intended difference: writing needs a token requested for Zerobus ingestion (4024)."""
    from tests.server.wire_client import get_token

    table = zerobus_table("id BIGINT")
    response = get_token(zerobus_server, table, ingest=False)
    credentials = Credentials(f"Bearer {response.json()['access_token']}")
    assert _http_verdict(zerobus_server, table, credentials) == OK
    assert _grpc_verdict(zerobus_server, table, credentials) == DENIED
    assert _flight_verdict(zerobus_server, table, credentials) == DENIED


def test_every_kind_of_refusal_has_a_status_on_every_wire() -> None:
    """A new kind of refusal must be given a status by each front-end (never a KeyError at run time)."""
    from zerobus.server.decisions import RefusalKind
    from zerobus.server.frontends import http_errors, stream_state

    assert set(stream_state._REFUSAL_STATUS) == set(RefusalKind)
    assert set(http_errors._REFUSAL_STATUS) == set(RefusalKind)
