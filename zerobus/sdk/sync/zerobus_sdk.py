"""`ZerobusSdk` (synchronous): one gRPC channel, shared by every stream it creates."""

from __future__ import annotations

import atexit
import logging
import weakref
from typing import Any

import grpc

from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.sdk.shared.auth import FederatedToken, IdpSupplier
from zerobus.sdk.shared.federation import federated_provider, federation_table
from zerobus.sdk.shared.headers_provider import HeadersProvider
from zerobus.sdk.shared.options import AckCallback, RecordType, StreamConfigurationOptions
from zerobus.sdk.shared.pool_core import PoolGrowth
from zerobus.sdk.shared.pool_keys import KeySpec
from zerobus.sdk.shared.sdk_base import SdkBase
from zerobus.sdk.shared.setup import plan_stream
from zerobus.sdk.shared.table_properties import TableProperties
from zerobus.sdk.shared.unclosed import settle_streams_left_open
from zerobus.sdk.sync.pool import StreamPool, open_stream_pool
from zerobus.sdk.sync.stream import RecordAcknowledgment, ZerobusStream

# The official module of this path also hands out the stream and the shared types.
__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "RecordAcknowledgment",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
]

logger = logging.getLogger(__name__)

# SDKs whose channel is open. A program that never calls close() gets its channels closed at
# exit, while every thread can still run: left to interpreter finalization, grpc tears down with
# its daemon threads already frozen, which grpc's own tracker reports hanging or crashing
# (grpc/grpc#6666, #11804). The README's examples, like the official SDK's, do not close the SDK.
_open_channels: weakref.WeakSet[ZerobusSdk] = weakref.WeakSet()


@atexit.register
def _close_channels_left_open() -> None:
    # Streams first (both drivers' share one registry): flushing them needs their channels.
    settle_streams_left_open()
    forgotten = list(_open_channels)
    if forgotten:
        logger.debug("closing %d gRPC channel(s) left open at exit", len(forgotten))
    for sdk in forgotten:
        sdk.close()


class ZerobusSdk(SdkBase):
    """Entry point: `ZerobusSdk(server_endpoint, unity_catalog_endpoint)`, then `create_stream(...)`.

    Endpoints may omit `https://`; an `http://` endpoint means plaintext gRPC and is only allowed
    for loopback hosts (local servers). `host` / `unity_catalog_url` are the official SDK's names
    for the same arguments. `connection_per_stream` is accepted for compatibility: streams of one
    SDK object always share its channel.
    """

    def _shared_channel(self) -> grpc.Channel:
        with self._channel_lock:
            if self._channel is None:
                credentials = self._config.channel_credentials()
                target, options = self._config.endpoint.target, self._config.channel_options()
                if credentials is None:
                    self._channel = grpc.insecure_channel(target, options=options)
                else:
                    self._channel = grpc.secure_channel(target, credentials, options=options)
                _open_channels.add(self)
            return self._channel

    def create_stream(
        self,
        client_id: Any = None,
        client_secret: Any = None,
        table_properties: TableProperties | None = None,
        options: StreamConfigurationOptions | None = None,
        headers_provider: HeadersProvider | None = None,
        *,
        auth: FederatedToken | None = None,
    ) -> ZerobusStream:
        """Open a stream to `table_properties.table_name`; returns once the server accepted it.

        Authenticates with OAuth client credentials (a fresh token per attempt) unless a
        `headers_provider` is given, or ``auth=FederatedToken(...)``: an external-IdP token
        exchanged for a Databricks one (RFC 8693), cached per identity and table until it nears
        its expiry or the server refuses it. The official core's order
        ``create_stream(table_properties, client_id, client_secret, options)`` works too.
        Raises `NonRetriableException` for bad credentials, missing grants, a missing table or a
        schema the server refuses; `ZerobusException` when retries were exhausted.
        """
        table, opts, provider, credentials = self._stream_arguments(
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        plan = plan_stream(self._config, table, opts, provider, credentials)
        stream = ZerobusStream(self._config, plan, self._shared_channel())
        stream._open()
        return stream

    def create_stream_with_headers_provider(
        self,
        headers_provider: HeadersProvider,
        table_properties: TableProperties,
        options: StreamConfigurationOptions | None = None,
    ) -> ZerobusStream:
        """`create_stream` authenticated by a custom `HeadersProvider`."""
        return self.create_stream(None, None, table_properties, options, headers_provider)

    def create_stream_federated(
        self,
        table_properties: TableProperties,
        idp_supplier: IdpSupplier | FederatedToken,
        databricks_client_id: str | None = None,
        options: StreamConfigurationOptions | None = None,
    ) -> ZerobusStream:
        """The official core's spelling of ``create_stream(table_properties=..., auth=...)``."""
        table = federation_table(None, None, table_properties, idp_supplier)
        provider = federated_provider(self._config, idp_supplier, table.table_name, databricks_client_id)
        return self.create_stream(None, None, table, options, provider)

    def create_stream_pool(
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
        """Open `streams` streams to one table, used as one (`StreamPool`): past one stream's limit.

        `key`: a field name or a callable of the record; records with equal keys always go to
        the same stream, so their order holds. Without it, records go to the least-loaded
        stream. ``streams="auto"`` starts with one stream and opens more (see `PoolGrowth`,
        at most 8 by default) while every stream is acknowledged at the per-stream limit.
        ``auth=FederatedToken(...)`` as in `create_stream`: the streams share one exchanged token.
        """
        arguments = self._stream_arguments(
            client_id, client_secret, table_properties, options, headers_provider, auth
        )
        return open_stream_pool(self._config, self._shared_channel, arguments, streams, key, growth)

    def create_stream_pool_with_headers_provider(
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
        return self.create_stream_pool(
            None,
            None,
            table_properties,
            options,
            streams=streams,
            key=key,
            growth=growth,
            headers_provider=headers_provider,
        )

    def recreate_stream(self, old_stream: ZerobusStream) -> ZerobusStream:
        """A new stream like `old_stream` (closed or failed), with its unacknowledged records re-sent first."""
        stream = self.create_stream(*self._recreate_arguments(old_stream))
        for batch in old_stream.get_unacked_batches():
            stream.ingest_records_offset(batch)
        return stream

    def close(self) -> None:
        """Close the shared channel (streams still open on it fail)."""
        with self._channel_lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None
            _open_channels.discard(self)
        self._config.close_http_session()

    def __enter__(self) -> ZerobusSdk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
