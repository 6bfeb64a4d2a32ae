"""Internal: Blocking work of an asyncio stream (token requests, waiting for callbacks), off the event loop.

`asyncio.to_thread` hands work to the loop's default executor, and executors refuse new work
once the interpreter has begun to exit. A stream left open is closed exactly then (see
`zerobus.sdk.shared.unclosed`), and its recovery needs a fresh token, so this runs each piece
of work on a short-lived thread of its own instead: it works for as long as the loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_blocking"]

T = TypeVar("T")


async def run_blocking(function: Callable[[], T], name: str = "zerobus-blocking") -> T:
    """`await` the result of `function()`, run on a new daemon thread (its exception is re-raised)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle_result(result: T) -> None:
        if not future.done():
            future.set_result(result)

    def settle_error(error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)

    def work() -> None:
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting task, which decides
            _call_soon(loop, settle_error, error)
        else:
            _call_soon(loop, settle_result, result)

    try:
        threading.Thread(target=work, name=name, daemon=True).start()
    except RuntimeError:  # no new threads at this point of interpreter shutdown: block the loop instead
        return function()
    return await future


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[T], None], value: T) -> None:
    with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody is waiting any more
        loop.call_soon_threadsafe(callback, value)
