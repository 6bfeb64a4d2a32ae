"""Stream records into Databricks Delta tables over Zerobus Ingest.

A drop-in for the official Python SDK: ``from zerobus import ZerobusSdk, TableProperties``
gives the synchronous API (`zerobus.sdk.sync`); `zerobus.sdk.aio` is the asyncio one.
"""

from zerobus.install_check import check_no_official_sdk

# First, before anything else is imported: beside the official SDK's distribution, the other
# modules of this package may be the official ones' (both install `zerobus`).
check_no_official_sdk()

__version__ = "0.1.0"

from zerobus.sdk import sync as _sync  # noqa: E402
from zerobus.sdk.shared.arrow import ArrowStreamConfigurationOptions, IPCCompression  # noqa: E402
from zerobus.sdk.sync import *  # noqa: E402, F403  (the official package re-exports the sync API)

__all__ = ["ArrowStreamConfigurationOptions", "IPCCompression", "__version__"]
__all__ += _sync.__all__
