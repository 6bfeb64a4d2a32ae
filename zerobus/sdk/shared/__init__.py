"""Types shared by the sync and asyncio SDKs (the official SDK's names)."""

from zerobus.engine import StreamTimeoutError
from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.protocol import IngestRecordResponse
from zerobus.sdk.shared.auth import FederatedToken, IdpTokenSupplier
from zerobus.sdk.shared.headers_provider import HeadersProvider, OAuthHeadersProvider
from zerobus.sdk.shared.options import AckCallback, RecordType, StreamConfigurationOptions
from zerobus.sdk.shared.state import StreamState
from zerobus.sdk.shared.table_properties import TableProperties

__all__ = [
    "AckCallback",
    "FederatedToken",
    "HeadersProvider",
    "IdpTokenSupplier",
    "IngestRecordResponse",
    "NonRetriableException",
    "OAuthHeadersProvider",
    "RecordType",
    "StreamConfigurationOptions",
    "StreamState",
    "StreamTimeoutError",
    "TableProperties",
    "ZerobusException",
]
