"""A local Zerobus-compatible server: gRPC ingest, OAuth, Unity Catalog tables, real Delta tables.

Use it in-process (`LocalZerobusServer`, the pytest fixtures of `zerobus.pytest_plugin`) or as
the `zerobus-emulator` command. Importing this package does not import deltalake or pyarrow;
starting a server does.

The names exported here are the public API; the modules under `zerobus.server` are internal
(layers: docs/ARCHITECTURE.md) and may change between releases.
"""

from zerobus.protocol.constants import MAX_REQUEST_BYTES
from zerobus.server.config import DEV_CLIENT_ID, DEV_CLIENT_SECRET, ServerConfig
from zerobus.server.faults import FaultInjector
from zerobus.server.identity.auth import ALL_PRIVILEGES, FULL_ACCESS, Grant, Principal
from zerobus.server.identity.dev_idp import DEV_IDP_AUDIENCE, DEV_IDP_ISSUER
from zerobus.server.identity.token_exchange import FederationPolicy
from zerobus.server.local import LocalZerobusServer
from zerobus.server.stats import ServerStats
from zerobus.server.storage.delta_recovery import TableUnavailable
from zerobus.server.storage.quarantine import FramesQuarantined, MaterializationFailing, QuarantinedFrame

__all__ = [
    "ALL_PRIVILEGES",
    "DEV_CLIENT_ID",
    "DEV_CLIENT_SECRET",
    "DEV_IDP_AUDIENCE",
    "DEV_IDP_ISSUER",
    "FULL_ACCESS",
    "MAX_REQUEST_BYTES",
    "FaultInjector",
    "FederationPolicy",
    "FramesQuarantined",
    "Grant",
    "LocalZerobusServer",
    "MaterializationFailing",
    "Principal",
    "QuarantinedFrame",
    "ServerConfig",
    "ServerStats",
    "TableUnavailable",
]
