"""The synchronous SDK: `ZerobusSdk`, `ZerobusStream`, `RecordAcknowledgment` and the shared types."""

from zerobus.sdk import shared
from zerobus.sdk.shared import *  # noqa: F403  (the shared types, as the official package re-exports them)
from zerobus.sdk.sync.arrow_stream import ZerobusArrowStream
from zerobus.sdk.sync.stream import RecordAcknowledgment, ZerobusStream
from zerobus.sdk.sync.zerobus_sdk import ZerobusSdk

__all__ = ["RecordAcknowledgment", "ZerobusArrowStream", "ZerobusSdk", "ZerobusStream"]
__all__ += shared.__all__
