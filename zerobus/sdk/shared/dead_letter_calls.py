"""Internal: Puts a `DeadLetterGuard` around the ingest, flush and close calls of a stream or a pool.

Both drivers and both pool kinds get the same wrappers (async ones where the call is a
coroutine), installed on the instance only when ``dead_letters`` is set: a stream without it
runs its own methods untouched. An ingest call is all-or-nothing, so a call that raised
queued none of its records: they are either refused (the stream is healthy) or lost to a
terminal failure, and go to the sink either way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from zerobus.engine.state import StreamState
from zerobus.errors import InvalidRecordError
from zerobus.sdk.shared.dead_letters import DeadLetterGuard

if TYPE_CHECKING:
    from zerobus.sdk.shared.options import StreamConfigurationOptions

__all__ = ["install_dead_letters", "open_dead_letters"]

T = TypeVar("T")

_ONE = ("ingest_record_offset", "ingest_record_nowait")
_MANY = ("ingest_records_offset", "ingest_records_nowait")


def open_dead_letters(options: StreamConfigurationOptions, table: str) -> DeadLetterGuard | None:
    """The guard the options ask for (its file opened: a bad path fails before any stream opens)."""
    if options.dead_letters is None:
        return None
    return DeadLetterGuard(options.dead_letters, table)


def install_dead_letters(target: T, guard: DeadLetterGuard | None) -> T:
    """`target` (a stream or a pool) with its calls guarded by `guard` (None: untouched)."""
    if guard is None:
        return target
    streams = _streams_of(target)
    encode: Callable[[Any], object] = streams()[0]._encode
    pool = hasattr(target, "streams")
    for name in _ONE:
        _wrap(target, name, lambda call: _one(call, guard, streams))
    # `ingest_record` goes through the (now guarded) `ingest_record_offset`.
    _wrap(target, "ingest_record", _no_handle_when_refused)
    for name in _MANY:
        _wrap(target, name, lambda call: _many(call, guard, streams, encode, pool))
    _wrap(target, "flush", lambda call: _ending(call, guard, streams, closing=False))
    _wrap(target, "get_unacked_records", lambda call: _unacked(call, guard, streams, flat=True))
    _wrap(target, "get_unacked_batches", lambda call: _unacked(call, guard, streams, flat=False))
    _wrap(target, "close", lambda call: _ending(call, guard, streams, closing=True))
    return target


def _streams_of(target: Any) -> Callable[[], list[Any]]:
    if hasattr(target, "streams"):  # a pool: its streams as they are now (it may grow)
        return lambda: list(target.streams)
    return lambda: [target]


def _wrap(target: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(target, name, None)
    if original is not None:
        wrapped = make(original)
        wrapped.__name__ = wrapped.__qualname__ = name
        wrapped.__doc__ = original.__doc__
        setattr(target, name, wrapped)


def _is_refusal(error: Exception, streams: Callable[[], list[Any]]) -> bool:
    """Whether an ingest call's error is about its records rather than the stream.

    It is when no stream failed or was closed; in a pool some of whose streams still take
    records, when the error is a record's own (the others would refuse it as well).
    """
    live = [stream.get_state() not in (StreamState.FAILED, StreamState.CLOSED) for stream in streams()]
    return all(live) or (any(live) and isinstance(error, (InvalidRecordError, TypeError)))


def _any_failed(streams: Callable[[], list[Any]]) -> bool:
    return any(stream.get_state() is StreamState.FAILED for stream in streams())


def _one(
    call: Callable[[Any], Any], guard: DeadLetterGuard, streams: Callable[[], list[Any]]
) -> Callable[[Any], Any]:
    def refuse_or_raise(payload: Any, error: Exception) -> None:
        if _is_refusal(error, streams):
            guard.refused([payload], error)
            return
        if _any_failed(streams):
            guard.failed(streams(), [payload], error)
        raise error

    if inspect.iscoroutinefunction(call):

        async def one_async(payload: Any) -> Any:
            try:
                return await call(payload)
            except Exception as error:
                refuse_or_raise(payload, error)
                return None

        return one_async

    def one(payload: Any) -> Any:
        try:
            return call(payload)
        except Exception as error:
            refuse_or_raise(payload, error)
            return None

    return one


def _no_handle_when_refused(call: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`ingest_record`: None instead of an acknowledgment handle for a dead-lettered record."""
    if inspect.iscoroutinefunction(call):

        async def record_async(payload: Any) -> Any:
            handle = await call(payload)
            return None if handle.offset is None else handle

        return record_async

    def record(payload: Any) -> Any:
        handle = call(payload)
        return None if handle.offset is None else handle

    return record


def _many(
    call: Callable[[Any], Any],
    guard: DeadLetterGuard,
    streams: Callable[[], list[Any]],
    encode: Callable[[Any], object],
    pool: bool,
) -> Callable[[Iterable[Any]], Any]:
    def nothing_queued() -> list[Any] | None:
        return [] if pool else None  # what the call itself returns for an empty list

    def split(records: list[Any], error: Exception) -> list[Any]:
        """The records to try again (the batch's valid ones); the invalid ones are dead-lettered."""
        if not _is_refusal(error, streams):
            if _any_failed(streams):
                guard.failed(streams(), records, error)
            raise error
        good = []
        for record in records:
            try:
                encode(record)
            except Exception as refusal:
                guard.refused([record], refusal)
            else:
                good.append(record)
        if len(good) == len(records):  # the batch as a whole was refused (too large, say)
            guard.refused(records, error)
            return []
        return good

    def settle(records: list[Any], error: Exception) -> None:
        """The valid part was refused too: dead letters, or the failure it met."""
        if _is_refusal(error, streams):
            guard.refused(records, error)
            return
        if _any_failed(streams):
            guard.failed(streams(), records, error)
        raise error

    if inspect.iscoroutinefunction(call):

        async def many_async(payloads: Iterable[Any]) -> Any:
            records = _as_list(payloads)
            try:
                return await call(records)
            except Exception as error:
                good = split(records, error)
            if not good:
                return nothing_queued()
            try:
                return await call(good)
            except Exception as error:
                settle(good, error)
                return nothing_queued()

        return many_async

    def many(payloads: Iterable[Any]) -> Any:
        records = _as_list(payloads)
        try:
            return call(records)
        except Exception as error:
            good = split(records, error)
        if not good:
            return nothing_queued()
        try:
            return call(good)
        except Exception as error:
            settle(good, error)
            return nothing_queued()

    return many


def _as_list(payloads: Iterable[Any]) -> list[Any]:
    """The records, read once; a list is kept as it is (encoded submissions keep their type)."""
    return payloads if isinstance(payloads, list) else list(payloads)


def _ending(
    call: Callable[[], Any], guard: DeadLetterGuard, streams: Callable[[], list[Any]], closing: bool
) -> Callable[[], Any]:
    """flush / close: whatever failed streams hold goes to the sink; the failure still raises."""

    def after() -> None:
        if _any_failed(streams):
            guard.failed(streams(), [], None)
        if closing:
            guard.close()

    if inspect.iscoroutinefunction(call):

        async def ending_async() -> Any:
            try:
                return await call()
            finally:
                after()

        return ending_async

    def ending() -> Any:
        try:
            return call()
        finally:
            after()

    return ending


def _unacked(
    call: Callable[[], Any], guard: DeadLetterGuard, streams: Callable[[], list[Any]], flat: bool
) -> Callable[[], Any]:
    """What is unacknowledged and not in the dead letters: a failed stream's records went there
    (now, if no call reported the failure yet), so `recreate_stream` cannot send them twice."""

    def remaining() -> Iterator[Any]:
        if _any_failed(streams):
            guard.failed(streams(), [], None)
        kept = [stream for stream in streams() if not guard.drained(stream)]
        if flat:
            return iter([payload for stream in kept for payload in stream._unacked_records()])
        return iter([batch for stream in kept for batch in stream._unacked_batches()])

    if inspect.iscoroutinefunction(call):

        async def unacked_async() -> Iterator[Any]:
            return remaining()

        return unacked_async

    return remaining
