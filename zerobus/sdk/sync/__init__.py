"""The synchronous SDK: `ZerobusSdk`, `ZerobusStream`, `RecordAcknowledgment` and the shared types."""

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
from zerobus.sdk.sync.stream import RecordAcknowledgment, ZerobusStream
from zerobus.sdk.sync.zerobus_sdk import ZerobusSdk

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
]
