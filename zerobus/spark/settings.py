"""Internal: The data source's options, completed from the environment and checked once, on the driver.

Spark hands a data source its ``.option(...)`` values as strings. They are resolved into one
picklable `WriteSettings` when the write is planned, so that a typo or a missing credential
fails the job before any task starts, naming the option and the environment variable that
could have supplied it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from zerobus.codegen.api import ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_HOST
from zerobus.endpoints import parse_table_name
from zerobus.errors import ConfigurationError
from zerobus.sdk.shared.options import StreamConfigurationOptions

__all__ = ["ENVIRONMENT_FALLBACKS", "ENV_ENDPOINT", "WriteSettings", "resolve_settings"]

ENV_ENDPOINT = "ZEROBUS_SERVER_ENDPOINT"

# option -> the environment variable the SDK's examples and tools read for it.
ENVIRONMENT_FALLBACKS = {
    "endpoint": ENV_ENDPOINT,
    "workspace_url": ENV_HOST,
    "client_id": ENV_CLIENT_ID,
    "client_secret": ENV_CLIENT_SECRET,
}

# Stream options a user may set as Spark options; the rest are the writer's to choose (records
# are sent as protobuf with integer timestamps in microseconds and dates in days).
_STREAM_OPTIONS = (
    "max_inflight_records",
    "recovery",
    "recovery_timeout_ms",
    "recovery_backoff_ms",
    "recovery_retries",
    "flush_timeout_ms",
    "server_lack_of_ack_timeout_ms",
    "stream_paused_max_wait_time_ms",
)
_OTHER_OPTIONS = ("table", "root_certificates", *ENVIRONMENT_FALLBACKS)
# Options Spark itself may add to a write.
_SPARK_OPTIONS = frozenset({"path", "checkpointlocation", "queryname"})


@dataclass(frozen=True)
class WriteSettings:
    """Everything a task needs to open its stream (pickled from the driver to the executors)."""

    table: str
    endpoint: str
    workspace_url: str
    client_id: str
    client_secret: str
    stream_options: StreamConfigurationOptions
    root_certificates: str | None = None

    def __repr__(self) -> str:  # the secret stays out of logs and Spark's plan output
        return (
            f"WriteSettings(table={self.table!r}, endpoint={self.endpoint!r}, "
            f"workspace_url={self.workspace_url!r}, client_id={self.client_id!r})"
        )


def resolve_settings(options: Mapping[str, str], environ: Mapping[str, str] | None = None) -> WriteSettings:
    """`WriteSettings` from Spark options, the environment filling in what is not given."""
    environ = os.environ if environ is None else environ
    given = {key.lower(): value for key, value in options.items()}
    known = {name.lower(): name for name in (*_OTHER_OPTIONS, *_STREAM_OPTIONS)}
    unknown = sorted(set(given) - set(known) - _SPARK_OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"zerobus data source: unknown option(s) {unknown}; known options: {sorted(known.values())}"
        )
    values = {known[key]: value for key, value in given.items() if key in known}
    table = values.get("table")
    if not table:
        raise ConfigurationError('zerobus data source: option "table" (catalog.schema.table) is required')
    table = parse_table_name(table).full_name
    resolved: dict[str, str] = {}
    for option, variable in ENVIRONMENT_FALLBACKS.items():
        value = values.get(option) or environ.get(variable)
        if not value:
            raise ConfigurationError(
                f'zerobus data source: option "{option}" is required (or set the environment variable {variable})'
            )
        resolved[option] = value
    return WriteSettings(
        table=table,
        stream_options=_stream_options(values),
        root_certificates=values.get("root_certificates") or None,
        **resolved,
    )


def _stream_options(values: Mapping[str, str]) -> StreamConfigurationOptions:
    """The SDK's stream options from their string forms (the SDK checks ranges, naming the option)."""
    types = {f.name: f.type for f in fields(StreamConfigurationOptions)}
    parsed: dict[str, Any] = {"timestamp_unit": "us", "date_unit": "days"}
    for name in _STREAM_OPTIONS:
        if name not in values:
            continue
        text = values[name].strip()
        if "bool" in str(types[name]):
            if text.lower() not in ("true", "false"):
                raise ConfigurationError(
                    f'zerobus data source: option "{name}" must be true or false, got {text!r}'
                )
            parsed[name] = text.lower() == "true"
            continue
        try:
            parsed[name] = int(text)
        except ValueError:
            raise ConfigurationError(
                f'zerobus data source: option "{name}" must be an integer, got {text!r}'
            ) from None
    return StreamConfigurationOptions(**parsed)
