"""Stream records into Databricks Delta tables over Zerobus Ingest.

A drop-in for the official Python SDK: ``from zerobus import ZerobusSdk, TableProperties``
gives the synchronous API; ``zerobus.sdk.aio`` the asyncio one.
"""

__version__ = "0.1.0"

from zerobus.sdk.shared import (
    AckCallback,
    HeadersProvider,
    NonRetriableException,
    OAuthHeadersProvider,
    RecordType,
    StreamConfigurationOptions,
    StreamState,
    TableProperties,
    ZerobusException,
)
from zerobus.sdk.sync import RecordAcknowledgment, ZerobusSdk, ZerobusStream

__all__ = [
    "AckCallback",
    "HeadersProvider",
    "NonRetriableException",
    "OAuthHeadersProvider",
    "RecordAcknowledgment",
    "RecordType",
    "StreamConfigurationOptions",
    "StreamState",
    "TableProperties",
    "ZerobusException",
    "ZerobusSdk",
    "ZerobusStream",
    "__version__",
]
