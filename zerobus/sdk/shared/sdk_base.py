"""Internal: What `ZerobusSdk` does the same way in both drivers: endpoints, arguments, recreating streams."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zerobus.errors import ZerobusException
from zerobus.sdk.shared.auth import FederatedToken
from zerobus.sdk.shared.federation import federated_arguments
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.options import StreamConfigurationOptions
from zerobus.sdk.shared.state import StreamState
from zerobus.sdk.shared.stats_ledger import AggregateStats, ledger_for
from zerobus.sdk.shared.stream_base import StreamBase
from zerobus.sdk.shared.stream_plan import SdkConfig, StreamPlan, create_stream_arguments
from zerobus.sdk.shared.table_properties import TableProperties

if TYPE_CHECKING:
    import pyarrow as pa

    from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
    from zerobus.sdk.shared.arrow_session import ArrowSession
    from zerobus.sdk.shared.arrow_stream_base import ArrowStreamBase

__all__ = ["SdkBase"]


class SdkBase:
    """Endpoints may omit `https://`; `http://` means plaintext gRPC, allowed for loopback hosts only.

    `host` / `unity_catalog_url` are the official SDK's names for `server_endpoint` /
    `unity_catalog_endpoint`. `application_name` (conventionally "<product>/<version>") follows
    our identifier in the user-agent of the gRPC calls and of the OAuth and Unity Catalog
    requests. `connection_per_stream` (default True, as in the official SDK): every stream gets a
    gRPC connection of its own; False: the streams of this SDK object share one.

    `root_certificates`: the path of a PEM file of CA certificates to trust instead of the
    defaults, for the gRPC channel and the OAuth and Unity Catalog HTTPS calls alike (a server
    with a private CA, such as ``zerobus-emulator start --tls``). Without it the environment
    variables ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` (gRPC) and ``REQUESTS_CA_BUNDLE`` (HTTPS) apply.
    """

    def __init__(
        self,
        host: str | None = None,
        unity_catalog_url: str | None = None,
        application_name: str | None = None,
        connection_per_stream: bool = True,
        *,
        server_endpoint: str | None = None,
        unity_catalog_endpoint: str | None = None,
        root_certificates: str | os.PathLike[str] | None = None,
    ) -> None:
        self._config = SdkConfig(
            server_endpoint if server_endpoint is not None else host,
            unity_catalog_endpoint if unity_catalog_endpoint is not None else unity_catalog_url,
            application_name,
            root_certificates,
            connection_per_stream,
        )

    @property
    def server_endpoint(self) -> str:
        return self._config.endpoint.url

    @property
    def unity_catalog_endpoint(self) -> str:
        return self._config.workspace.url

    def stats(self) -> AggregateStats:
        """The stats of every stream this SDK object opened, pooled or not (`zerobus.telemetry.AggregateStats`).

        Closed streams keep counting in the cumulative totals; queued and in-flight records and
        the ack latency cover the streams still open.
        """
        return ledger_for(self._config).stats()

    def _supplier_loop(self) -> asyncio.AbstractEventLoop | None:
        """Where an ``async def`` IdP supplier is awaited: the asyncio SDK's running loop (None: none)."""
        return None

    def _stream_arguments(
        self,
        client_id: Any,
        client_secret: Any,
        table_properties: Any,
        options: Any,
        headers_provider: Any,
        auth: FederatedToken | None,
    ) -> tuple[TableProperties, StreamConfigurationOptions, HeadersProvider | None, tuple[str, str] | None]:
        """`create_stream`'s arguments (either official order, or `auth=`) as (table, options,
        provider, credentials)."""
        if auth is not None:
            table_properties, headers_provider = federated_arguments(
                self._config, client_id, client_secret, table_properties, auth, self._supplier_loop()
            )
            client_id = client_secret = None
        return create_stream_arguments(client_id, client_secret, table_properties, options, headers_provider)

    @staticmethod
    def _recreate_arguments(old_stream: StreamBase) -> tuple[Any, Any, Any, Any, Any]:
        """`create_stream` arguments of a closed or failed stream (the unacked records follow)."""
        if old_stream.get_state() not in (StreamState.CLOSED, StreamState.FAILED):
            raise ZerobusException("recreate_stream needs a closed or failed stream; close() it first")
        plan: StreamPlan = old_stream._plan
        client_id, client_secret = plan.credentials or (None, None)
        provider = None if plan.credentials else plan.headers_provider
        return client_id, client_secret, plan.table, plan.options, provider

    def _arrow_opener(
        self,
        table_name: str,
        schema: pa.Schema | None,
        credentials: tuple[str, str] | None,
        headers_provider: HeadersProvider | None,
        options: ArrowStreamConfigurationOptions | None,
    ) -> Callable[[], ArrowSession]:
        """What opens an Arrow stream's session (it blocks: the asyncio SDK runs it on a worker thread).

        pyarrow is imported when an Arrow stream is made, not with the SDK.
        """
        from zerobus.sdk.shared.arrow_setup import open_arrow_session

        return functools.partial(
            open_arrow_session, self._config, table_name, schema, credentials, headers_provider, options
        )

    def _arrow_reopener(self, old_stream: ArrowStreamBase) -> Callable[[], ArrowSession]:
        """What opens the session of `recreate_arrow_stream` (blocking, as `_arrow_opener`)."""
        from zerobus.sdk.shared.arrow_setup import reopen_arrow_session

        return functools.partial(reopen_arrow_session, self._config, old_stream._session)
