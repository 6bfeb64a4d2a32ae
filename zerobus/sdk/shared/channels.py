"""Internal: Which gRPC channel (and so which TCP connection) each stream of one SDK object uses.

`connection_per_stream=True` (the official default) gives every stream a channel of its own, so
packet loss on one connection cannot stall the others (HTTP/2 head-of-line blocking); False lets
the streams of one SDK object share one channel. Every channel is made with a private subchannel
pool: gRPC would otherwise reuse one connection for all channels to the same target, and one
channel would not mean one connection.

Both drivers keep their channels here; only making and closing a channel is theirs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["PRIVATE_SUBCHANNELS", "ChannelBook"]

Channel = TypeVar("Channel")

# The gRPC channel argument that keeps a channel's connections to itself.
PRIVATE_SUBCHANNELS = ("grpc.use_local_subchannel_pool", 1)


class ChannelBook(Generic[Channel]):
    """The channels of one SDK object: the shared one, and those dedicated to one stream each."""

    def __init__(self, per_stream: bool) -> None:
        self.per_stream = per_stream
        self._lock = threading.Lock()
        self._shared: Channel | None = None
        self._shared_key: object = None
        # A dedicated channel lives as long as its stream (which holds it); gRPC closes a channel
        # nobody holds, so a stream dropped without close() does not keep a connection open.
        self._dedicated: weakref.WeakSet[Channel] = weakref.WeakSet()
        # Shared channels replaced by `forget_shared`, still used by the streams opened on them.
        self._retired: weakref.WeakSet[Channel] = weakref.WeakSet()
        # Set while the SDK object has closed its channels: a call that ends then ended because of
        # it, and no retry can succeed on a closed channel.
        self.closed = False

    def for_new_stream(self, make: Callable[[], Channel], shared_key: object = None) -> Channel:
        """The channel a new stream uses; `shared_key` (the aio driver's event loop) scopes the shared one."""
        with self._lock:
            self.closed = False
            if self.per_stream:
                channel = make()
                self._dedicated.add(channel)
                return channel
            if self._shared is None or self._shared_key is not shared_key:
                self._shared, self._shared_key = make(), shared_key
            return self._shared

    def release(self, channel: object) -> bool:
        """A stream using `channel` ended: True when the channel was its own and is now to be closed."""
        with self._lock:
            if channel in self._dedicated:
                self._dedicated.discard(channel)  # type: ignore[arg-type]
                return True
            return False

    def forget_shared(self) -> None:
        """Streams created from now on get a new shared channel (the connection settings changed)."""
        with self._lock:
            if self._shared is not None:
                self._retired.add(self._shared)
            self._shared = None

    def take_all(self) -> list[Channel]:
        """Every channel still open, no longer tracked: the SDK object is closing them."""
        with self._lock:
            self.closed = True
            channels = list(self._dedicated) + list(self._retired)
            if self._shared is not None and self._shared not in channels:
                channels.append(self._shared)
            self._shared = None
            self._dedicated = weakref.WeakSet()
            self._retired = weakref.WeakSet()
            return channels

    @property
    def shared(self) -> Channel | None:
        """The shared channel, if one was made (None with `per_stream`)."""
        return self._shared
