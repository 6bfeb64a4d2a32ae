"""Internal: What both drivers' `create_arrow_stream*` do before the first Flight call, written once.

The arguments are checked (table name, schema, credentials or headers provider, options); a
schema left out (None) is the table's own, read from Unity Catalog and turned into Arrow by the
same type contract as ``zerobus-codegen --arrow`` (`TableSchema.arrow_schema()`). Blocking: the
asyncio SDK runs it in a worker thread.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from zerobus.endpoints import parse_table_name
from zerobus.errors import ConfigurationError, ZerobusException
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions
from zerobus.sdk.shared.arrow_session import ArrowPlan, ArrowSession
from zerobus.sdk.shared.headers_provider import AUTHORIZATION, HeadersProvider, OAuthHeadersProvider
from zerobus.sdk.shared.refusal import retry_once_if_refused
from zerobus.sdk.shared.stream_plan import SdkConfig
from zerobus.sdk.shared.unity_catalog import fetch_table_schema

__all__ = ["open_arrow_session", "plan_arrow_stream", "reopen_arrow_session"]

logger = logging.getLogger(__name__)


def plan_arrow_stream(
    config: SdkConfig,
    table_name: Any,
    schema: Any,
    credentials: tuple[Any, Any] | None,
    headers_provider: HeadersProvider | None,
    options: ArrowStreamConfigurationOptions | None,
) -> ArrowPlan:
    import pyarrow as pa

    if not isinstance(table_name, str):
        raise ConfigurationError(f"table_name must be a string 'catalog.schema.table', got {table_name!r}")
    parse_table_name(table_name)
    if options is None:
        options = ArrowStreamConfigurationOptions()
    if not isinstance(options, ArrowStreamConfigurationOptions):
        raise ConfigurationError(
            f"options must be an ArrowStreamConfigurationOptions, got {type(options).__name__}"
        )
    options = copy.copy(options)  # the stream keeps the options it was created with
    config.endpoint.require_safe_for_credentials()
    if headers_provider is not None:
        if not callable(getattr(headers_provider, "get_headers", None)):
            raise ConfigurationError("headers_provider must have a get_headers() method")
        credentials = None
        provider = headers_provider
    else:
        client_id, client_secret = credentials or (None, None)
        if not (
            isinstance(client_id, str) and client_id and isinstance(client_secret, str) and client_secret
        ):
            raise ConfigurationError("client_id and client_secret must be non-empty strings")
        credentials = (client_id, client_secret)
        provider = OAuthHeadersProvider(
            config.endpoint.workspace_id,
            config.workspace.url,
            table_name,
            client_id,
            client_secret,
            session=config.http_session,
        )
    if schema is None:
        schema = _table_arrow_schema(config, table_name, credentials, provider)
    elif not isinstance(schema, pa.Schema):
        raise ConfigurationError(
            f"schema must be a pyarrow.Schema (or None: the table's own), got {type(schema).__name__}"
        )
    if len(schema) == 0:
        raise ConfigurationError("schema has no fields: an Arrow stream needs at least one column")
    return ArrowPlan(table_name, schema, options, provider, credentials)


def _table_arrow_schema(
    config: SdkConfig, table_name: str, credentials: tuple[str, str] | None, provider: HeadersProvider
) -> Any:
    logger.info("reading the schema of %s from Unity Catalog for an Arrow stream", table_name)
    session = config.http_session
    if credentials is not None:
        return fetch_table_schema(
            table_name, config.workspace.url, *credentials, session=session
        ).arrow_schema()

    def read_with_provider_token() -> Any:
        token = dict(config.headers(provider, table_name)).get(AUTHORIZATION, "")
        found = fetch_table_schema(
            table_name, config.workspace.url, bearer_token=token.removeprefix("Bearer "), session=session
        )
        return found.arrow_schema()

    return retry_once_if_refused(provider, read_with_provider_token)


def open_arrow_session(
    config: SdkConfig,
    table_name: Any,
    schema: Any,
    credentials: tuple[Any, Any] | None,
    headers_provider: HeadersProvider | None,
    options: ArrowStreamConfigurationOptions | None,
) -> ArrowSession:
    """A planned, opened Arrow stream: returns once the server sent its ready signal."""
    session = ArrowSession(
        config, plan_arrow_stream(config, table_name, schema, credentials, headers_provider, options)
    )
    session.open()
    return session


def reopen_arrow_session(config: SdkConfig, old: ArrowSession) -> ArrowSession:
    """A new stream like `old` (closed or failed), its unacknowledged batches resent first."""
    if not old.is_closed:
        raise ZerobusException("recreate_arrow_stream needs a closed or failed stream; close() it first")
    session = ArrowSession(config, old.plan)
    session.open()
    for batch in old.unacked():
        session.send(batch)
    return session
