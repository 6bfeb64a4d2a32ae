"""`StreamConfigurationOptions` and `AckCallback` under the official SDK's module path.

Code written for the official package imports them from ``zerobus.sdk.shared.config``; they are
the same classes as `zerobus.sdk.shared.options` defines.
"""

from zerobus.sdk.shared.options import AckCallback, StreamConfigurationOptions

__all__ = ["AckCallback", "StreamConfigurationOptions"]
