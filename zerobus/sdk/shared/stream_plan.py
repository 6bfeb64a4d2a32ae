"""Internal: Everything both drivers do before a stream's first call, written once (internal to the SDK).

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

import copy
import logging
from dataclasses import dataclass
from typing import Any

import grpc
import requests

from zerobus import __version__
from zerobus.encoders import RecordEncoder, choose_encoder, resolve_record_type
from zerobus.endpoints import Endpoint, parse_endpoint
from zerobus.engine import EngineConfig
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.protocol.constants import BEARER_PREFIX
from zerobus.sdk.shared.channels import PRIVATE_SUBCHANNELS, ChannelBook
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
        connection_per_stream: bool | None = True,
    ) -> None:
        self.endpoint: Endpoint = parse_endpoint(server_endpoint, "Zerobus server endpoint")
        self.workspace: Endpoint = parse_endpoint(unity_catalog_endpoint, "Unity Catalog endpoint")
        self.user_agent = user_agent(application_name)
        if connection_per_stream is not None and not isinstance(connection_per_stream, bool):
            raise ConfigurationError(
                f"connection_per_stream must be True or False, got {connection_per_stream!r}"
            )
        # The driver's gRPC channels: one per stream, or one shared (`zerobus.sdk.shared.channels`).
        self.channels: ChannelBook[Any] = ChannelBook(connection_per_stream is not False)
        self.root_certificates: RootCertificates | None = load_root_certificates(root_certificates)
        # The OAuth and Unity Catalog calls trust the same CA as the channel and say who calls.
        self.http_session = trusting_session(self.root_certificates) or requests.Session()
        self.http_session.headers["User-Agent"] = self.user_agent.encode()
        # Federated (exchanged) tokens, shared by the streams of this SDK object.
        self.token_cache = TokenCache()

    def close_http_session(self) -> None:
        """Release the HTTPS connections kept for OAuth and Unity Catalog (reopened if used again)."""
        self.http_session.close()

    def channel_options(self) -> list[tuple[str, Any]]:
        return [
            ("grpc.max_send_message_length", -1),
            ("grpc.max_receive_message_length", -1),
            ("grpc.primary_user_agent", self.user_agent),
            PRIVATE_SUBCHANNELS,
        ]

    def set_use_tls(self, use_tls: bool) -> None:
        """TLS (True) or plaintext (False) gRPC for streams created from now on, whatever the scheme.

        Plaintext still never carries credentials to a host other than this machine.
        """
        if not isinstance(use_tls, bool):
            raise ConfigurationError(f"set_use_tls needs True or False, got {use_tls!r}")
        if use_tls != self.endpoint.secure:
            self.endpoint = self.endpoint.with_tls(use_tls)
            self.channels.forget_shared()

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


def user_agent(application_name: object) -> str:
    """Our identifier, then the caller's `application_name` (conventionally "<product>/<version>").

    Refused like the official SDK refuses it: anything an HTTP header value cannot hold (control
    characters other than tab), so the mistake shows here rather than as a failed call.
    """
    if application_name is None:
        return SDK_IDENTIFIER
    if not isinstance(application_name, str):
        raise ConfigurationError(f"application_name must be a string, got {application_name!r}")
    bad = [char for char in application_name if (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F]
    if bad:
        raise ConfigurationError(
            f"application_name {application_name!r} is not a valid user-agent header value: "
            f"it contains the control character {bad[0]!r}"
        )
    return f"{SDK_IDENTIFIER} {application_name}" if application_name else SDK_IDENTIFIER


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
    # Options are mutable: a stream keeps those it was created with (as the official SDK's do).
    options = copy.copy(options)
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
            config.workspace.as_given,
            table.table_name,
            *credentials,
            session=config.http_session,
        )
    provider = headers_provider

    def fetch_schema() -> Any:
        logger.info("reading the schema of %s from Unity Catalog", table.table_name)
        session = config.http_session
        if credentials is not None:
            return fetch_table_schema(
                table.table_name, config.workspace.as_given, *credentials, session=session
            )

        def read_with_provider_token() -> Any:
            token = dict(config.headers(provider, table.table_name)).get(AUTHORIZATION, "")
            return fetch_table_schema(
                table.table_name,
                config.workspace.as_given,
                bearer_token=token.removeprefix(BEARER_PREFIX),
                session=session,
            )

        return retry_once_if_refused(provider, read_with_provider_token)

    record_type = resolve_record_type(options.record_type, table.descriptor, table.avro_schema)
    encoder = choose_encoder(
        table.descriptor, record_type, fetch_schema, options.integer_units, table.avro_schema
    )
    engine = EngineConfig(
        table_name=table.table_name,
        record_type=encoder.record_type,
        # The schema `create_stream` carries: the descriptor, or an AVRO stream's writer schema text.
        descriptor_proto=(
            encoder.descriptor_proto if encoder.avro_schema is None else encoder.avro_schema.encode("utf-8")
        ),
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
