"""Internal: `with` / `async with` for streams and pools, written once for each driver.

Leaving the block closes the object. If closing fails, its error is raised, unless the block
already ended by an exception: that one goes through, and the closing error is logged by the
object's `_close_on_exit_failed`.
"""

from __future__ import annotations

from typing import TypeVar

from zerobus.errors import ZerobusException

__all__ = ["AsyncClosingContext", "ClosingContext"]

_Sync = TypeVar("_Sync", bound="ClosingContext")
_Async = TypeVar("_Async", bound="AsyncClosingContext")


class ClosingContext:
    """``with stream:`` (or a pool): `close()` at the end of the block."""

    def close(self) -> None:
        raise NotImplementedError

    def _close_on_exit_failed(self, error: ZerobusException, exc_type: object) -> None:
        raise NotImplementedError

    def __enter__(self: _Sync) -> _Sync:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        except ZerobusException as error:
            self._close_on_exit_failed(error, exc_info[0])


class AsyncClosingContext:
    """``async with stream:`` (or a pool): `await close()` at the end of the block."""

    async def close(self) -> None:
        raise NotImplementedError

    def _close_on_exit_failed(self, error: ZerobusException, exc_type: object) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Async) -> _Async:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.close()
        except ZerobusException as error:
            self._close_on_exit_failed(error, exc_info[0])
