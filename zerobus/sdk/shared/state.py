"""Internal: `StreamState`, re-exported from the engine where the transitions are written down."""

from zerobus.engine.state import StreamState

__all__ = ["StreamState"]
