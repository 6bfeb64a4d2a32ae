"""`ZerobusSdk` for asyncio: one `grpc.aio` channel per event loop, shared by its streams."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc.aio

from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.sdk.aio.pool import StreamPool, open_stream_pool
from zerobus.sdk.aio.stream import ZerobusStream
from zerobus.sdk.shared.auth import FederatedToken, IdpSupplier
from zerobus.sdk.shared.federation import federated_provider, federation_table
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.options import AckCallback, RecordType, StreamConfigurationOptions
from zerobus.sdk.shared.pool_core import PoolGrowth
from zerobus.sdk.shared.pool_keys import KeySpec
from zerobus.sdk.shared.sdk_base import SdkBase
from zerobus.sdk.shared.setup import plan_stream
from zerobus.sdk.shared.table_properties import TableProperties

# The official module of this path also hands out the stream and the shared types.
__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]


class ZerobusSdk(SdkBase):
    """Entry point for asyncio: `ZerobusSdk(server_endpoint, unity_catalog_endpoint)`, then
    ``await sdk.create_stream(...)``. Arguments as in `zerobus.sdk.sync.ZerobusSdk`.
    """

    def _shared_channel(self) -> grpc.aio.Channel:
        loop = asyncio.get_running_loop()
        if self._channel is None or self._channel[0] is not loop:
            credentials = self._config.channel_credentials()
            target, options = self._config.endpoint.target, self._config.channel_options()
            if credentials is None:
                channel = grpc.aio.insecure_channel(target, options=options)
            else:
                channel = grpc.aio.secure_channel(target, credentials, options=options)
            self._channel = (loop, channel)
        return self._channel[1]

    async def create_stream(
        self,
        client_id: Any = None,
        client_secret: Any = None,
        table_properties: TableProperties | None = None,
        options: StreamConfigurationOptions | None = None,
        headers_provider: HeadersProvider | None = None,
        *,
        auth: FederatedToken | None = None,
    ) -> ZerobusStream:
        """Open a stream; see `zerobus.sdk.sync.ZerobusSdk.create_stream`.

        With ``auth=FederatedToken(supplier)`` the supplier may be ``async def``: it is awaited
        on this event loop.
        """
        table, opts, provider, credentials = self._stream_arguments(
            client_id,
            client_secret,
            table_properties,
            options,
            headers_provider,
            auth,
            asyncio.get_running_loop(),
        )
        plan = await asyncio.to_thread(plan_stream, self._config, table, opts, provider, credentials)
        stream = ZerobusStream(self._config, plan, self._shared_channel())
        await stream._open()
        return stream

    async def create_stream_with_headers_provider(
        self,
        headers_provider: HeadersProvider,
        table_properties: TableProperties,
        options: StreamConfigurationOptions | None = None,
    ) -> ZerobusStream:
        """`create_stream` authenticated by a custom `HeadersProvider`."""
        return await self.create_stream(None, None, table_properties, options, headers_provider)

    async def create_stream_federated(
        self,
        table_properties: TableProperties,
        idp_supplier: IdpSupplier | FederatedToken,
        databricks_client_id: str | None = None,
        options: StreamConfigurationOptions | None = None,
    ) -> ZerobusStream:
        """The official core's spelling of ``create_stream(table_properties=..., auth=...)``."""
        table = federation_table(None, None, table_properties, idp_supplier)
        provider = federated_provider(
            self._config, idp_supplier, table.table_name, databricks_client_id, asyncio.get_running_loop()
        )
        return await self.create_stream(None, None, table, options, provider)

    async def create_stream_pool(
        self,
        client_id: Any = None,
        client_secret: Any = None,
        table_properties: TableProperties | None = None,
        options: StreamConfigurationOptions | None = None,
        *,
        streams: int | str = 4,
        key: KeySpec | None = None,
        growth: PoolGrowth | None = None,
        headers_provider: HeadersProvider | None = None,
        auth: FederatedToken | None = None,
    ) -> StreamPool:
        """Open a `StreamPool`; see `zerobus.sdk.sync.ZerobusSdk.create_stream_pool`."""
        arguments = self._stream_arguments(
            client_id,
            client_secret,
            table_properties,
            options,
            headers_provider,
            auth,
            asyncio.get_running_loop(),
        )
        return await open_stream_pool(self._config, self._shared_channel, arguments, streams, key, growth)

    async def create_stream_pool_with_headers_provider(
        self,
        headers_provider: HeadersProvider,
        table_properties: TableProperties,
        options: StreamConfigurationOptions | None = None,
        *,
        streams: int | str = 4,
        key: KeySpec | None = None,
        growth: PoolGrowth | None = None,
    ) -> StreamPool:
        """`create_stream_pool` authenticated by a custom `HeadersProvider`."""
        return await self.create_stream_pool(
            None,
            None,
            table_properties,
            options,
            streams=streams,
            key=key,
            growth=growth,
            headers_provider=headers_provider,
        )

    async def recreate_stream(self, old_stream: ZerobusStream) -> ZerobusStream:
        """A new stream like `old_stream` (closed or failed), its unacknowledged records re-sent first."""
        stream = await self.create_stream(*self._recreate_arguments(old_stream))
        for batch in await old_stream.get_unacked_batches():
            await stream.ingest_records_offset(batch)
        return stream

    async def close(self) -> None:
        """Close the shared channel."""
        if self._channel is not None:
            await self._channel[1].close()
            self._channel = None
        self._config.close_http_session()

    async def __aenter__(self) -> ZerobusSdk:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
