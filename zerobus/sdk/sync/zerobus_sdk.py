"""`ZerobusSdk` (synchronous): a gRPC channel per stream, or one shared (`connection_per_stream`)."""

from __future__ import annotations

import atexit
import logging
import weakref
from typing import TYPE_CHECKING

import grpc

from zerobus.errors import NonRetriableException, ZerobusException
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
from zerobus.sdk.shared.unclosed import settle_streams_left_open
from zerobus.sdk.sync.arrow_stream import ZerobusArrowStream
from zerobus.sdk.sync.pool import StreamPool, open_stream_pool
from zerobus.sdk.sync.stream import RecordAcknowledgment, ZerobusStream

if TYPE_CHECKING:
    import pyarrow as pa

# The official module of this path also hands out the stream and the shared types.
__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "RecordAcknowledgment",
    "RecordType",
    "StreamConfigurationOptions",
    "TableProperties",
    "ZerobusArrowStream",
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
    for the same arguments. `connection_per_stream` (default True): a gRPC connection per stream;
    False: the streams of this SDK object share one.
    """

    def _new_channel(self) -> grpc.Channel:
        credentials = self._config.channel_credentials()
        target, options = self._config.endpoint.target, self._config.channel_options()
        if credentials is None:
            return grpc.insecure_channel(target, options=options)
        return grpc.secure_channel(target, credentials, options=options)

    def _channel_for_stream(self) -> grpc.Channel:
        _open_channels.add(self)
        return self._config.channels.for_new_stream(self._new_channel)

    def set_use_tls(self, use_tls: bool) -> None:
        """TLS (True, the default for `https://` and scheme-less endpoints) or plaintext gRPC
        (False) for the streams created from now on. Plaintext carries credentials to loopback
        hosts only: `create_stream` refuses any other host."""
        self._config.set_use_tls(use_tls)

    def create_stream(
        self,
        client_id: str | TableProperties | None = None,
        client_secret: str | None = None,
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
        dead_letters = open_dead_letters(plan.options, plan.table.table_name)
        channel = self._channel_for_stream()
        stream = ZerobusStream(self._config, plan, channel)
        try:
            stream._open()
        except BaseException:
            if self._config.channels.release(channel):
                channel.close()
            raise
        return install_dead_letters(stream, dead_letters)

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
        provider = federated_provider(
            self._config, idp_supplier, table.table_name, databricks_client_id, self._supplier_loop()
        )
        return self.create_stream(None, None, table, options, provider)

    def create_stream_pool(
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
        return open_stream_pool(self._config, self._channel_for_stream, arguments, streams, key, growth)

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

    def create_arrow_stream(
        self,
        table_name: str,
        schema: pa.Schema | None,
        client_id: str,
        client_secret: str,
        options: ArrowStreamConfigurationOptions | None = None,
    ) -> ZerobusArrowStream:
        """Open an Arrow Flight stream to `table_name`; returns once the server accepted it.

        `schema`: the batches' `pyarrow.Schema`, or None for the table's own (read from Unity
        Catalog, as ``zerobus-codegen --arrow`` gives it). Setup errors (credentials, grants,
        a missing table, a schema the table cannot take) raise `NonRetriableException` here.
        Needs pyarrow (``pip install zerobus-toolkit[arrow]``).
        """
        return ZerobusArrowStream(
            self._arrow_opener(table_name, schema, (client_id, client_secret), None, options)()
        )

    def create_arrow_stream_with_headers_provider(
        self,
        table_name: str,
        schema: pa.Schema | None,
        headers_provider: HeadersProvider,
        options: ArrowStreamConfigurationOptions | None = None,
    ) -> ZerobusArrowStream:
        """`create_arrow_stream` authenticated by a custom `HeadersProvider`."""
        return ZerobusArrowStream(self._arrow_opener(table_name, schema, None, headers_provider, options)())

    def recreate_arrow_stream(self, old_stream: ZerobusArrowStream) -> ZerobusArrowStream:
        """A new Arrow stream like `old_stream` (closed or failed), its unacknowledged batches resent first."""
        return ZerobusArrowStream(self._arrow_reopener(old_stream)())

    def close(self) -> None:
        """Close the SDK's gRPC channels (streams still open on them fail, keeping their records).

        Its Arrow streams still open are flushed and closed first (each bounded by its
        `flush_timeout_ms`; what could not be delivered is logged and kept in `get_unacked_batches()`).
        """
        close_arrow_streams(self._config)
        for channel in self._config.channels.take_all():
            channel.close()
        _open_channels.discard(self)
        self._config.close_http_session()

    def __enter__(self) -> ZerobusSdk:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
