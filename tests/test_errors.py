"""gRPC failures are classified in one place (zerobus.errors.from_grpc_error)."""

from __future__ import annotations

import grpc
import pytest

from zerobus.errors import NonRetriableException, ZerobusException, from_grpc_error


class FakeRpcError(grpc.RpcError):
    """A finished call's error as grpc raises it (a race we cannot produce on demand)."""

    def __init__(self, code: grpc.StatusCode, details: str, debug: str = "") -> None:
        self._code, self._details, self._debug = code, details, debug

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def debug_error_string(self) -> str:
        return self._debug


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.NOT_FOUND,
    ],
)
def test_non_retryable_codes(code: grpc.StatusCode) -> None:
    error = from_grpc_error(FakeRpcError(code, "Error code 4044: bad"))
    assert isinstance(error, NonRetriableException)
    assert code.name in str(error) and "Error code 4044: bad" in str(error)


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED]
)
def test_other_codes_are_retryable_and_keep_the_cause(code: grpc.StatusCode) -> None:
    original = FakeRpcError(code, "Error code 6002: stream lifetime reached")
    error = from_grpc_error(original)
    assert type(error) is ZerobusException
    assert error.cause is original
    assert "6002" in str(error)


def test_status_lost_by_grpc_aio_is_explained() -> None:
    lost = FakeRpcError(
        grpc.StatusCode.INTERNAL,
        "Internal error from Core",
        'Failed "execute_batch": (<grpc._cython.cygrpc.SendMessageOperation object at 0x7f>,)',
    )
    error = from_grpc_error(lost)
    assert type(error) is ZerobusException
    assert "grpc/grpc#36066" in str(error)
    plain = from_grpc_error(FakeRpcError(grpc.StatusCode.INTERNAL, "Internal error from Core", "other"))
    assert "36066" not in str(plain)
