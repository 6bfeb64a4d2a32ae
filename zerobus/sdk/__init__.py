"""The SDK: `zerobus.sdk.sync` (threads) and `zerobus.sdk.aio` (asyncio), over one engine.

Like the official package (and this SDK's first releases), ``from zerobus.sdk import ZerobusSdk``
gives the synchronous API.
"""

from zerobus.sdk import sync
from zerobus.sdk.sync import *  # noqa: F403  (the official package re-exports the sync API)

__all__ = list(sync.__all__)
