"""`LocalZerobusServer`'s public methods and their signatures are an API: moving code behind it
(collaborators, mixins) must not change what callers see."""

from __future__ import annotations

import inspect

from zerobus.server import LocalZerobusServer

_PROPERTIES = {
    "ca_file", "client_id", "client_secret", "core", "data_dir", "grpc_endpoint", "grpc_port",
    "http_port", "tls", "workspace_url",
}  # fmt: skip

_METHODS = {
    "__enter__": "(self) -> 'LocalZerobusServer'",
    "__exit__": "(self, exc_type: 'type[BaseException] | None', exc: 'BaseException | None', "
    "tb: 'TracebackType | None') -> 'None'",
    "__init__": "(self, data_dir: 'Path | str | None' = None, host: 'str' = '127.0.0.1', grpc_port: 'int' = 0, "
    "http_port: 'int' = 0, materialize_delay_s: 'float' = 2.0, max_stream_duration_s: 'float | None' = None, "
    "tables: 'Mapping[str, str] | None' = None, *, materialize_max_lag_s: 'float' = 5.0, "
    "close_signal_lead_s: 'float' = 5.0, "
    "token_lifetime_s: 'float' = 3600.0, http_read_timeout_s: 'float' = 30.0, tls: 'bool' = False, "
    "tls_dir: 'Path | str | None' = None, stream_rate_limit: 'float | None' = None, "
    "stream_byte_rate_limit: 'float | None' = None, service_limits: 'bool' = False, "
    "rate_limit_clock: 'Callable[[], float] | None' = None) -> 'None'",
    "add_federation_policy": "(self, policy: 'FederationPolicy') -> 'None'",
    "add_principal": "(self, client_id: 'str', client_secret: 'str', grants: 'Iterable[Grant]' = "
    "(Grant(securable='*', privileges=frozenset({'ALL PRIVILEGES'})),)) -> 'Principal'",
    "create_table": "(self, full_name: 'str', columns: 'str', comment: 'str | None' = None) -> 'TableSchema'",
    "drop_table": "(self, full_name: 'str') -> 'None'",
    "expire_tokens": "(self) -> 'None'",
    "flush_materialization": "(self, timeout_s: 'float' = 30.0) -> 'None'",
    "idp_token": "(self, subject: 'str' = 'zerobus-dev-client', audience: 'str' = 'zerobus-emulator', "
    "lifetime_s: 'float' = 3600.0) -> 'str'",
    "quarantined_frames": "(self, full_name: 'str | None' = None) -> 'list[QuarantinedFrame]'",
    "remove_principal": "(self, client_id: 'str') -> 'None'",
    "rows": "(self, full_name: 'str', limit: 'int | None' = None) -> 'list[dict[str, Any]]'",
    "start": "(self) -> 'LocalZerobusServer'",
    "stop": "(self) -> 'None'",
    "table_names": "(self) -> 'list[str]'",
    "table_path": "(self, full_name: 'str') -> 'Path'",
    "table_schema": "(self, full_name: 'str') -> 'TableSchema'",
    "unavailable_tables": "(self) -> 'dict[str, str]'",
    "wait_for_rows": "(self, full_name: 'str', count: 'int | None' = None, timeout_s: 'float' = 30.0) -> 'int'",
}


def test_the_public_methods_and_properties_keep_their_signatures() -> None:
    public = {
        name: inspect.getattr_static(LocalZerobusServer, name)
        for name in dir(LocalZerobusServer)
        if not name.startswith("_") or name in ("__init__", "__enter__", "__exit__")
    }
    properties = {name for name, member in public.items() if isinstance(member, property)}
    methods = {
        name: str(inspect.signature(member)) for name, member in public.items() if inspect.isfunction(member)
    }
    assert properties == _PROPERTIES
    assert methods == _METHODS
    assert not set(public) - properties - set(methods)  # nothing public that is neither
