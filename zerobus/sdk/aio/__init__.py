"""The asyncio SDK: `ZerobusSdk`, `ZerobusStream` (awaitable methods) and the shared types."""

from zerobus.sdk import shared
from zerobus.sdk.aio.arrow_stream import ZerobusArrowStream
from zerobus.sdk.aio.stream import RecordAcknowledgment, ZerobusStream
from zerobus.sdk.aio.zerobus_sdk import ZerobusSdk
from zerobus.sdk.shared import *  # noqa: F403  (the shared types, as the official package re-exports them)

__all__ = ["RecordAcknowledgment", "ZerobusArrowStream", "ZerobusSdk", "ZerobusStream"]
__all__ += shared.__all__
