"""Internal: Why an ingestion run stopped short, as exceptions the command line maps to exit statuses."""

from __future__ import annotations

from zerobus.errors import NonRetriableException, ZerobusException

__all__ = ["InputFileError", "RowRefusedError", "StreamOpenError"]


class InputFileError(NonRetriableException):
    """A file cannot be read as its format, or its columns do not fit the table."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class RowRefusedError(NonRetriableException):
    """A row does not fit the table and there is no dead-letter file to put it in."""

    def __init__(self, path: str, where: str, reason: str) -> None:
        super().__init__(f"{path}, {where}: {reason}")
        self.path = path
        self.where = where
        self.reason = reason


class StreamOpenError(ZerobusException):
    """The stream to the Zerobus endpoint could not be opened (`cause`: the SDK's error)."""

    def __init__(self, endpoint: str, error: ZerobusException) -> None:
        super().__init__(f"cannot open a stream at {endpoint}: {error.message}", error)
        self.endpoint = endpoint
        self.error = error
