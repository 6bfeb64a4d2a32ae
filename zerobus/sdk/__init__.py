"""The SDK: `zerobus.sdk.sync` (threads) and `zerobus.sdk.aio` (asyncio), over one engine."""
