"""`ZerobusSdk` for asyncio: a `grpc.aio` channel per stream, or one per event loop (`connection_per_stream`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc.aio

from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.sdk.aio.arrow_stream import ZerobusArrowStream
from zerobus.sdk.aio.blocking import run_blocking
from zerobus.sdk.aio.pool import StreamPool, open_stream_pool
from zerobus.sdk.aio.stream import ZerobusStream
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.shared.arrow_lifecycle import close_arrow_streams
from zerobus.sdk.shared.auth import FederatedToken, IdpSupplier
from zerobus.sdk.shared.dead_letter_calls import install_dead_letters, open_dead_letters
from zerobus.sdk.shared.federation import federated_provider, federation_table
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.options import AckCallback, RecordType, StreamConfigurationOptions
from zerobus.sdk.shared.pool_core import PoolGrowth
from zerobus.sdk.shared.pool_keys import KeySpec
from zerobus.sdk.shared.sdk_base import SdkBase
from zerobus.sdk.shared.stream_plan import plan_stream
from zerobus.sdk.shared.table_properties import TableProperties

if TYPE_CHECKING:
    import pyarrow as pa

# The official module of this path also hands out the stream and the shared types.
__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusArrowStream",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]


class ZerobusSdk(SdkBase):
    """Entry point for asyncio: `ZerobusSdk(server_endpoint, unity_catalog_endpoint)`, then
    ``await sdk.create_stream(...)``. Arguments as in `zerobus.sdk.sync.ZerobusSdk`.
    """

    def _new_channel(self) -> grpc.aio.Channel:
        credentials = self._config.channel_credentials()
        target, options = self._config.endpoint.target, self._config.channel_options()
        if credentials is None:
            return grpc.aio.insecure_channel(target, options=options)
        return grpc.aio.secure_channel(target, credentials, options=options)

    def _supplier_loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def _channel_for_stream(self) -> grpc.aio.Channel:
        # A grpc.aio channel works on the loop it was made on: the shared one is per loop.
        return self._config.channels.for_new_stream(self._new_channel, asyncio.get_running_loop())

    async def set_use_tls(self, use_tls: bool) -> None:
        """TLS or plaintext gRPC for streams created from now on; see `zerobus.sdk.sync.ZerobusSdk.set_use_tls`.

        A coroutine, as the official core's asyncio `set_use_tls` is.
        """
        self._config.set_use_tls(use_tls)

    async def create_stream(
        self,
        client_id: str | TableProperties | None = None,
        client_secret: str | None = None,
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
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        plan = await asyncio.to_thread(plan_stream, self._config, table, opts, provider, credentials)
        dead_letters = open_dead_letters(plan.options, plan.table.table_name)
        channel = self._channel_for_stream()
        stream = ZerobusStream(self._config, plan, channel)
        try:
            await stream._open()
        except BaseException:
            if self._config.channels.release(channel):
                await channel.close()
            raise
        return install_dead_letters(stream, dead_letters)

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
            self._config, idp_supplier, table.table_name, databricks_client_id, self._supplier_loop()
        )
        return await self.create_stream(None, None, table, options, provider)

    async def create_stream_pool(
        self,
        client_id: str | TableProperties | None = None,
        client_secret: str | None = None,
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
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        return await open_stream_pool(self._config, self._channel_for_stream, arguments, streams, key, growth)

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

    async def create_arrow_stream(
        self,
        table_name: str,
        schema: pa.Schema | None,
        client_id: str,
        client_secret: str,
        options: ArrowStreamConfigurationOptions | None = None,
    ) -> ZerobusArrowStream:
        """Open an Arrow Flight stream; see `zerobus.sdk.sync.ZerobusSdk.create_arrow_stream`."""
        opener = self._arrow_opener(table_name, schema, (client_id, client_secret), None, options)
        return ZerobusArrowStream(await run_blocking(opener))

    async def create_arrow_stream_with_headers_provider(
        self,
        table_name: str,
        schema: pa.Schema | None,
        headers_provider: HeadersProvider,
        options: ArrowStreamConfigurationOptions | None = None,
    ) -> ZerobusArrowStream:
        """`create_arrow_stream` authenticated by a custom `HeadersProvider`."""
        opener = self._arrow_opener(table_name, schema, None, headers_provider, options)
        return ZerobusArrowStream(await run_blocking(opener))

    async def recreate_arrow_stream(self, old_stream: ZerobusArrowStream) -> ZerobusArrowStream:
        """A new Arrow stream like `old_stream` (closed or failed), its unacknowledged batches resent first."""
        return ZerobusArrowStream(await run_blocking(self._arrow_reopener(old_stream)))

    async def close(self) -> None:
        """Close the SDK's gRPC channels (streams still open on them fail, keeping their records).

        Its Arrow streams still open are flushed and closed first (each bounded by its
        `flush_timeout_ms`; what could not be delivered is logged and kept in `get_unacked_batches()`).
        """
        await run_blocking(lambda: close_arrow_streams(self._config), "zerobus-arrow")
        for channel in self._config.channels.take_all():
            await channel.close()
        self._config.close_http_session()

    async def __aenter__(self) -> ZerobusSdk:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
