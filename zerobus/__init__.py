"""Stream records into Databricks Delta tables over Zerobus Ingest.

A drop-in for the official Python SDK: ``from zerobus import ZerobusSdk, TableProperties``
gives the synchronous API (`zerobus.sdk.sync`); `zerobus.sdk.aio` is the asyncio one.
"""

__version__ = "0.1.0"

from zerobus.sdk import sync as _sync
from zerobus.sdk.sync import *  # noqa: F403  (the official package re-exports the sync API)

__all__ = ["__version__"]
__all__ += _sync.__all__
