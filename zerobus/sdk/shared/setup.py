"""Everything both drivers do before a stream's first call, written once.

- `SdkConfig`: the endpoints (normalised, docs/PROTOCOL.md section 1), the SDK identifier, and the
  gRPC channel settings (TLS unless `http://`, no message size limits, our user agent).
- `create_stream_arguments`: the official wrapper's argument order
  ``(client_id, client_secret, table_properties, options, headers_provider)`` and the official
  core's ``(table_properties, client_id, client_secret, options)``, both accepted.
- `plan_stream`: options validated, headers provider chosen, encoder chosen (fetching the
  schema from Unity Catalog for a PROTO stream without a descriptor), engine configured.
  Blocking (the aio driver runs it in a worker thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import grpc

from zerobus import __version__
from zerobus.encoders import RecordEncoder, choose_encoder, resolve_record_type
from zerobus.endpoints import Endpoint, parse_endpoint
from zerobus.engine import EngineConfig
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.sdk.shared.headers_provider import (
    AUTHORIZATION,
    HeadersProvider,
    OAuthHeadersProvider,
    normalize_headers,
)
from zerobus.sdk.shared.options import StreamConfigurationOptions
from zerobus.sdk.shared.refusal import retry_once_if_refused
from zerobus.sdk.shared.table_properties import TableProperties
from zerobus.sdk.shared.token_cache import TokenCache
from zerobus.sdk.shared.trust import RootCertificates, load_root_certificates, trusting_session
from zerobus.sdk.shared.unity_catalog import fetch_table_schema

__all__ = ["SDK_IDENTIFIER", "SdkConfig", "StreamPlan", "create_stream_arguments", "plan_stream"]

logger = logging.getLogger(__name__)

SDK_IDENTIFIER = f"zerobus-toolkit-py/{__version__}"


class SdkConfig:
    """The normalised endpoints of one SDK object and the settings of its one gRPC channel."""

    def __init__(
        self,
        server_endpoint: Any,
        unity_catalog_endpoint: Any,
        application_name: str | None = None,
        root_certificates: Any = None,
    ) -> None:
        self.endpoint: Endpoint = parse_endpoint(server_endpoint, "Zerobus server endpoint")
        self.workspace: Endpoint = parse_endpoint(unity_catalog_endpoint, "Unity Catalog endpoint")
        if application_name is not None and not isinstance(application_name, str):
            raise ConfigurationError(f"application_name must be a string, got {application_name!r}")
        self.user_agent = SDK_IDENTIFIER + (f" {application_name}" if application_name else "")
        self.root_certificates: RootCertificates | None = load_root_certificates(root_certificates)
        # The OAuth and Unity Catalog calls trust the same CA as the channel (None: requests' own).
        self.http_session = trusting_session(self.root_certificates)
        # Federated (exchanged) tokens, shared by the streams of this SDK object.
        self.token_cache = TokenCache()

    def close_http_session(self) -> None:
        """Release the HTTPS connections kept for OAuth and Unity Catalog (reopened if used again)."""
        if self.http_session is not None:
            self.http_session.close()

    def channel_options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            ("grpc.primary_user_agent", self.user_agent),
        ]

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS trusting `root_certificates` (default: grpc's roots, or the file named by
        ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``), or None for a plaintext `http://` endpoint."""
        if not self.endpoint.secure:
            return None
        roots = self.root_certificates.pem if self.root_certificates is not None else None
        return grpc.ssl_channel_credentials(root_certificates=roots)

    def headers(self, provider: HeadersProvider, table_name: str) -> list[tuple[str, str]]:
        """A call's metadata from the provider (a fresh token), checked and completed."""
        self.endpoint.require_safe_for_credentials()
        try:
            raw = provider.get_headers()
        except ZerobusException:
            raise
        except Exception as error:
            raise ZerobusException(f"headers provider failed: {error}", cause=error) from error
        return normalize_headers(raw, table_name, self.user_agent)


def create_stream_arguments(
    client_id: Any, client_secret: Any, table_properties: Any, options: Any, headers_provider: Any
) -> tuple[TableProperties, StreamConfigurationOptions, HeadersProvider | None, tuple[str, str] | None]:
    """Normalise both official argument orders; returns (table, options, provider, credentials)."""
    if isinstance(client_id, TableProperties):
        # The official core's order: (table_properties, client_id, client_secret, options).
        client_id, client_secret, table_properties = client_secret, table_properties, client_id
    if isinstance(headers_provider, TableProperties) and not isinstance(table_properties, TableProperties):
        # create_stream_with_headers_provider in the official core's order: (table_properties, provider).
        table_properties, headers_provider = headers_provider, table_properties
    if not isinstance(table_properties, TableProperties):
        raise ConfigurationError(
            f"table_properties must be a TableProperties, got {type(table_properties).__name__}"
        )
    if options is None:
        options = StreamConfigurationOptions()
    if not isinstance(options, StreamConfigurationOptions):
        raise ConfigurationError(
            f"options must be a StreamConfigurationOptions, got {type(options).__name__}"
        )
    if headers_provider is not None:
        if not callable(getattr(headers_provider, "get_headers", None)):
            raise ConfigurationError("headers_provider must have a get_headers() method")
        return table_properties, options, headers_provider, None
    if (
        not isinstance(client_id, str)
        or not client_id
        or not isinstance(client_secret, str)
        or not client_secret
    ):
        raise ConfigurationError("client_id and client_secret are required unless headers_provider is given")
    return table_properties, options, None, (client_id, client_secret)


@dataclass
class StreamPlan:
    """What a stream is made of, decided before its first call."""

    table: TableProperties
    options: StreamConfigurationOptions
    headers_provider: HeadersProvider
    credentials: tuple[str, str] | None
    encoder: RecordEncoder
    engine: EngineConfig


def plan_stream(
    config: SdkConfig,
    table: TableProperties,
    options: StreamConfigurationOptions,
    headers_provider: HeadersProvider | None,
    credentials: tuple[str, str] | None,
) -> StreamPlan:
    """Choose the encoder and configure the engine (may read the schema from Unity Catalog)."""
    config.endpoint.require_safe_for_credentials()
    if headers_provider is None:
        assert credentials is not None
        headers_provider = OAuthHeadersProvider(
            config.endpoint.workspace_id,
            config.workspace.url,
            table.table_name,
            *credentials,
            session=config.http_session,
        )
    provider = headers_provider

    def fetch_schema() -> Any:
        logger.info("reading the schema of %s from Unity Catalog", table.table_name)
        session = config.http_session
        if credentials is not None:
            return fetch_table_schema(table.table_name, config.workspace.url, *credentials, session=session)

        def read_with_provider_token() -> Any:
            token = dict(config.headers(provider, table.table_name)).get(AUTHORIZATION, "")
            return fetch_table_schema(
                table.table_name,
                config.workspace.url,
                bearer_token=token.removeprefix("Bearer "),
                session=session,
            )

        return retry_once_if_refused(provider, read_with_provider_token)

    record_type = resolve_record_type(options.record_type, table.descriptor)
    encoder = choose_encoder(table.descriptor, record_type, fetch_schema, options.integer_units)
    engine = EngineConfig(
        table_name=table.table_name,
        record_type=encoder.record_type,
        descriptor_proto=encoder.descriptor_proto,
        max_inflight_records=options.max_inflight_records,
        recovery=options.recovery,
        recovery_timeout_s=options.recovery_timeout_ms / 1000,
        recovery_backoff_s=options.recovery_backoff_ms / 1000,
        recovery_retries=options.recovery_retries,
        flush_timeout_s=options.flush_timeout_ms / 1000,
        lack_of_ack_timeout_s=options.server_lack_of_ack_timeout_ms / 1000,
        stream_paused_max_wait_s=(
            None
            if options.stream_paused_max_wait_time_ms is None
            else options.stream_paused_max_wait_time_ms / 1000
        ),
    )
    return StreamPlan(table, options, headers_provider, credentials, encoder, engine)
