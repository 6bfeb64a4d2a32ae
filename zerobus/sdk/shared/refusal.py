"""Internal: What a stream does when the server refuses its credentials (gRPC UNAUTHENTICATED).

The headers provider is told at once (`HeadersProvider.invalidate()`), before any next attempt,
so a provider that caches tokens drops the refused one. A refusal is not retryable in itself
(the same credentials would be refused again), but when the provider says it dropped cached
credentials (`invalidate()` returns True) the next attempt carries fresh ones: the stream then
tries once more. A second refusal in a row is final, so a provider whose fresh credentials
are refused too cannot loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from zerobus.errors import ZerobusException
from zerobus.schema.uc import CatalogAuthError

__all__ = ["CredentialRefusals", "is_refused_credentials", "retry_once_if_refused"]

T = TypeVar("T")

logger = logging.getLogger(__name__)


def is_refused_credentials(error: BaseException) -> bool:
    """Whether a gRPC failure says the server refused the call's credentials."""
    code = getattr(error, "code", None)
    return callable(code) and code() == grpc.StatusCode.UNAUTHENTICATED


class CredentialRefusals:
    """Per stream: invalidates the provider on a refusal and decides whether one more try may help."""

    def __init__(self, provider: Any) -> None:
        self._provider = provider
        self._retried = False

    def call_ended(
        self, rpc_error: BaseException | None, error: ZerobusException | None
    ) -> ZerobusException | None:
        """The error the engine should see for a call that ended with `rpc_error` (translated: `error`)."""
        if rpc_error is None or error is None or not is_refused_credentials(rpc_error):
            self._retried = False
            return error
        dropped = _invalidate(self._provider)
        if dropped is True and not self._retried:
            self._retried = True
            logger.info("the server refused cached credentials; trying once more with fresh ones")
            return ZerobusException(
                f"{error.message} (the cached credentials were dropped: the next attempt uses fresh ones)",
                cause=error,
            )
        return error


def retry_once_if_refused(provider: Any, request: Callable[[], T]) -> T:
    """`request()` (a REST call with the provider's token); once more if its token was refused
    (HTTP 401) and the provider dropped cached credentials, as a stream's call does."""
    try:
        return request()
    except CatalogAuthError as refused:
        if refused.status != 401 or _invalidate(provider) is not True:
            raise
        logger.info("Unity Catalog refused cached credentials; trying once more with fresh ones")
    return request()


def _invalidate(provider: Any) -> object:
    invalidate = getattr(provider, "invalidate", None)
    if not callable(invalidate):
        return None
    try:
        return invalidate()
    except Exception:  # a provider's own failure must not hide the server's answer
        logger.exception("headers provider invalidate() failed")
        return None
