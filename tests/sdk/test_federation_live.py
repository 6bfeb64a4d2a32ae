"""Federated streams (``auth=FederatedToken``) end to end: both drivers, rows read back from Delta.

The local server's development IdP issues the external tokens; the server exchanges them at
``/oidc/v1/token`` (RFC 8693). Expiry is scripted with injected clocks, never waited for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.sdk.conftest import fast_options, ids
from zerobus.endpoints import parse_table_name
from zerobus.errors import ConfigurationError, NonRetriableException, ZerobusException
from zerobus.oauth import fetch_ingest_token
from zerobus.sdk.shared import FederatedToken, HeadersProvider, RecordType, TableProperties
from zerobus.sdk.shared.auth import IdpSupplier
from zerobus.server.identity.dev_idp import DEV_IDP_AUDIENCE, DEV_IDP_ISSUER
from zerobus.server.identity.token_exchange import FederationPolicy


class Supplier:
    """An IdP token supplier that counts its calls (one call = one exchange)."""

    def __init__(self, token: Callable[[], str]) -> None:
        self.token, self.calls = token, 0

    def __call__(self) -> str:
        self.calls += 1
        return self.token()


def _ingest(driver: Any, stream: Any, first: int, count: int) -> None:
    driver.ingest_all(stream, "ingest_record_offset", [{"id": i} for i in range(first, first + count)])
    stream.close()


def test_rows_land_over_a_federated_token_exchanged_once(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    supplier = Supplier(zerobus_server.idp_token)
    auth = FederatedToken(supplier)
    table = TableProperties(events_table)
    _ingest(driver, driver.create_stream(table_properties=table, options=fast_options(), auth=auth), 0, 20)
    # A second stream, and a recreated one, reuse the exchanged token of the same identity.
    second = driver.create_stream(table_properties=table, options=fast_options(), auth=auth)
    _ingest(driver, second, 20, 5)
    _ingest(driver, driver.recreate_stream(second), 25, 5)
    assert supplier.calls == 1
    assert ids(zerobus_server.rows(events_table)) == list(range(30))


def test_workload_identity_federation_names_the_service_principal(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    subject = f"ci-job-{driver.name}-{events_table}"
    zerobus_server.add_federation_policy(
        FederationPolicy(DEV_IDP_ISSUER, subject, (DEV_IDP_AUDIENCE,), client_id=zerobus_server.client_id)
    )
    auth = FederatedToken(lambda: zerobus_server.idp_token(subject), zerobus_server.client_id)
    stream = driver.create_stream(TableProperties(events_table), options=fast_options(), auth=auth)
    _ingest(driver, stream, 0, 10)
    assert ids(zerobus_server.rows(events_table)) == list(range(10))
    # The same subject without naming the principal is refused: no account policy maps it.
    refused = FederatedToken(lambda: zerobus_server.idp_token(subject))
    with pytest.raises(NonRetriableException, match=r"HTTP 400: subject .* is not a principal"):
        driver.create_stream(TableProperties(events_table), options=fast_options(), auth=refused)


def test_the_official_core_spelling_create_stream_federated(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    supplier = IdpSupplier(zerobus_server.idp_token, driver.name == "aio", "identity-1")
    stream = driver.create_stream_federated(TableProperties(events_table), supplier, None, fast_options())
    _ingest(driver, stream, 0, 3)
    assert ids(zerobus_server.rows(events_table)) == [0, 1, 2]


def test_an_async_supplier_is_awaited_by_the_asyncio_sdk(zerobus_server: Any, events_table: str) -> None:
    from tests.sdk.drivers import AioDriver

    driver = AioDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    calls: list[int] = []

    async def supplier() -> str:
        calls.append(1)
        return str(zerobus_server.idp_token())

    try:
        stream = driver.create_stream(
            table_properties=TableProperties(events_table),
            options=fast_options(),
            auth=FederatedToken(supplier),
        )
        _ingest(driver, stream, 0, 4)
    finally:
        driver.close()
    assert calls == [1]
    assert ids(zerobus_server.rows(events_table)) == list(range(4))


def test_the_sync_sdk_refuses_an_async_supplier_saying_why(zerobus_server: Any, events_table: str) -> None:
    from tests.sdk.drivers import SyncDriver

    async def supplier() -> str:
        return "never awaited"

    driver = SyncDriver(zerobus_server.grpc_endpoint, zerobus_server.workspace_url)
    try:
        with pytest.raises(ConfigurationError, match=r"synchronous ZerobusSdk cannot await.*aio"):
            driver.create_stream(
                table_properties=TableProperties(events_table), auth=FederatedToken(supplier)
            )
    finally:
        driver.close()


@pytest.mark.parametrize(
    ("returned", "shown"),
    [("", "an empty string"), ("  ", "an empty string"), (None, "NoneType"), (42, "int")],
)
def test_a_supplier_returning_no_token_is_refused_naming_it(
    driver: Any, events_table: str, returned: Any, shown: str
) -> None:
    auth = FederatedToken(lambda: returned)
    with pytest.raises(ConfigurationError, match=f"idp_token_supplier must return .* got {shown}"):
        driver.create_stream(
            table_properties=TableProperties(events_table), options=fast_options(), auth=auth
        )


@pytest.mark.parametrize(
    "arguments",
    [
        {"client_id": "id", "client_secret": "secret"},
        {"client_id": "id"},
    ],
)
def test_auth_cannot_be_combined_with_client_credentials(
    driver: Any, events_table: str, arguments: Any
) -> None:
    auth = FederatedToken(lambda: "t")
    with pytest.raises(ConfigurationError, match="cannot be combined with auth="):
        driver.create_stream(table_properties=TableProperties(events_table), auth=auth, **arguments)


def test_auth_must_be_a_federated_token(driver: Any, events_table: str) -> None:
    with pytest.raises(ConfigurationError, match="auth= must be a FederatedToken, got str"):
        driver.create_stream(table_properties=TableProperties(events_table), auth="a token")


def _foreign_jwt(issuer: str, subject: str) -> str:
    """A well-formed HS256 JWT signed with a key the server does not know."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'iss': issuer, 'sub': subject, 'exp': time.time() + 600, 'aud': DEV_IDP_AUDIENCE})}"
    signature = hmac.new(b"not the server's key", signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    ("token_kind", "reason"),
    [
        ("foreign_issuer", "issuer 'https://login.example.com/tenant' is not trusted"),
        ("forged_signature", "signature does not verify"),
        ("not_a_jwt", "not a JWT"),
        ("expired", "subject_token expired"),
    ],
)
def test_refused_idp_tokens_fail_the_stream_without_retrying(
    driver: Any,
    zerobus_server: Any,
    events_table: str,
    monkeypatch: pytest.MonkeyPatch,
    token_kind: str,
    reason: str,
) -> None:
    client_id = zerobus_server.client_id
    if token_kind == "foreign_issuer":
        token = _foreign_jwt("https://login.example.com/tenant", client_id)
    elif token_kind == "forged_signature":
        token = _foreign_jwt(DEV_IDP_ISSUER, client_id)
    elif token_kind == "not_a_jwt":
        token = "opaque-token"
    else:
        # Issued two hours ago for one hour: expired now (the IdP's clock is scripted, not waited on).
        monkeypatch.setattr(zerobus_server.core.idp, "clock", lambda: time.time() - 7200)
        token = zerobus_server.idp_token(lifetime_s=3600)
        monkeypatch.undo()
    supplier = Supplier(lambda: token)
    with pytest.raises(NonRetriableException, match=re.escape(reason)) as refused:
        driver.create_stream(
            table_properties=TableProperties(events_table),
            options=fast_options(),
            auth=FederatedToken(supplier),
        )
    assert "HTTP 400" in str(refused.value)
    assert supplier.calls == 1  # refused by the token endpoint: no retry can change the answer


def test_a_refused_cached_token_is_exchanged_afresh_before_the_next_attempt(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    supplier = Supplier(zerobus_server.idp_token)
    auth = FederatedToken(supplier)
    table = TableProperties(events_table)
    _ingest(driver, driver.create_stream(table_properties=table, options=fast_options(), auth=auth), 0, 3)
    zerobus_server.expire_tokens()  # the cached exchanged token is now refused (UNAUTHENTICATED)
    stream = driver.create_stream(table_properties=table, options=fast_options(), auth=auth)
    _ingest(driver, stream, 3, 3)
    assert supplier.calls == 2
    assert ids(zerobus_server.rows(events_table)) == list(range(6))


def test_an_exchanged_token_is_renewed_once_it_nears_expiry(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    supplier = Supplier(zerobus_server.idp_token)
    auth = FederatedToken(supplier)
    table = TableProperties(events_table)
    cache = driver.sdk._config.token_cache
    _ingest(driver, driver.create_stream(table_properties=table, options=fast_options(), auth=auth), 0, 2)
    now = time.time()
    cache.clock = lambda: now + 3400  # the SDK's clock: 200 s before the token's expiry
    _ingest(driver, driver.create_stream(table_properties=table, options=fast_options(), auth=auth), 2, 2)
    assert supplier.calls == 2
    assert ids(zerobus_server.rows(events_table)) == list(range(4))


class CachingProvider(HeadersProvider):
    """A custom provider caching one token; records when the SDK invalidates it."""

    def __init__(self, server: Any, table: str, events: list[str], says_dropped: bool) -> None:
        self.server, self.table, self.events, self.says_dropped = server, table, events, says_dropped
        self.token: str | None = None

    def get_headers(self) -> list[tuple[str, str]]:
        if self.token is None:
            self.token = _client_credentials_token(self.server, self.table)
            self.events.append("minted")
        else:
            self.events.append("cached")
        return [("authorization", f"Bearer {self.token}")]

    def invalidate(self) -> bool:
        self.events.append("invalidate")
        self.token = None
        return self.says_dropped


def _client_credentials_token(server: Any, table: str) -> str:
    return fetch_ingest_token(
        server.workspace_url,
        server.grpc_endpoint,
        parse_table_name(table),
        server.client_id,
        server.client_secret,
    )


@pytest.mark.parametrize(
    ("record_type", "expected"),
    [
        # JSON: the gRPC call is the first to present the refused token.
        (RecordType.JSON, ["minted", "cached", "invalidate", "minted"]),
        # PROTO without a descriptor: reading the schema from Unity Catalog is (HTTP 401).
        (RecordType.PROTO, ["minted", "cached", "cached", "invalidate", "minted", "cached"]),
    ],
    ids=["grpc-refusal", "unity-catalog-refusal"],
)
def test_invalidate_is_called_when_the_server_refuses_credentials_before_the_next_attempt(
    driver: Any, zerobus_server: Any, events_table: str, record_type: RecordType, expected: list[str]
) -> None:
    events: list[str] = []
    provider = CachingProvider(zerobus_server, events_table, events, says_dropped=True)
    table = TableProperties(events_table)
    options = fast_options(record_type=record_type)
    _ingest(driver, driver.create_stream(None, None, table, options, provider), 0, 2)
    zerobus_server.expire_tokens()
    _ingest(driver, driver.create_stream(None, None, table, options, provider), 2, 2)
    assert events == expected
    assert ids(zerobus_server.rows(events_table)) == list(range(4))


def test_a_provider_that_dropped_nothing_fails_at_once_after_invalidate(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    events: list[str] = []
    provider = CachingProvider(zerobus_server, events_table, events, says_dropped=False)
    provider.token = "dzb-not-a-token-of-this-server"
    options = fast_options(record_type=RecordType.JSON)
    with pytest.raises(NonRetriableException, match="UNAUTHENTICATED"):
        driver.create_stream(None, None, TableProperties(events_table), options, provider)
    assert events == ["cached", "invalidate"]


def test_a_stream_pool_shares_one_exchanged_token(
    driver: Any, zerobus_server: Any, events_table: str
) -> None:
    supplier = Supplier(zerobus_server.idp_token)
    auth = FederatedToken(supplier)

    def open_pool() -> Any:
        return driver.sdk.create_stream_pool(
            table_properties=TableProperties(events_table), options=fast_options(), streams=3, auth=auth
        )

    pool = driver.run(open_pool) if driver.name == "aio" else open_pool()
    records = [{"id": i} for i in range(30)]
    if driver.name == "aio":
        driver.run(pool.ingest_records_offset, records)
        driver.run(pool.close)
    else:
        pool.ingest_records_offset(records)
        pool.close()
    assert supplier.calls == 1
    assert ids(zerobus_server.rows(events_table)) == list(range(30))


def test_a_failing_supplier_is_retried_then_reported_with_its_error(driver: Any, events_table: str) -> None:
    def supplier() -> str:
        raise RuntimeError("IdP unreachable")

    options = fast_options(recovery_retries=2)
    with pytest.raises(
        ZerobusException, match=r"idp_token_supplier failed: RuntimeError\('IdP unreachable'\)"
    ):
        driver.create_stream(
            table_properties=TableProperties(events_table), options=options, auth=FederatedToken(supplier)
        )
