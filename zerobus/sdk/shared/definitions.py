"""The shared types under the module path of this SDK's first releases (``zerobus.sdk.shared.definitions``).

The same classes as `zerobus.sdk.shared` exports; kept so code written for those releases imports.
"""

from zerobus.errors import NonRetriableException, ZerobusException
from zerobus.sdk.shared.options import RecordType, StreamConfigurationOptions
from zerobus.sdk.shared.state import StreamState
from zerobus.sdk.shared.table_properties import TableProperties

__all__ = [
    "NonRetriableException",
    "RecordType",
    "StreamConfigurationOptions",
    "StreamState",
    "TableProperties",
    "ZerobusException",
]
