"""Internal: Binding the server's ports, with an error a person can act on when one is taken."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import TypeVar

__all__ = ["PortInUse", "bind_socket", "binding"]

_T = TypeVar("_T")


class PortInUse(OSError):
    """The port is taken (by another emulator, or anything else)."""

    def __init__(self, what: str, host: str, port: int, option: str) -> None:
        super().__init__(
            errno.EADDRINUSE,
            f"the {what} port {port} on {host} is in use: stop what listens there, or pick another port "
            f"with {option} (0 picks a free one)",
        )
        self.what = what
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.strerror)


def binding(what: str, host: str, port: int, option: str, bind: Callable[[], _T]) -> _T:
    """`bind()`, with "address in use" turned into `PortInUse` naming the port and the option."""
    try:
        return bind()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(what, host, port, option) from error
        raise


def bind_socket(sock: socket.socket, what: str, host: str, port: int, option: str) -> None:
    """Bind `sock` to ``(host, port)``; `PortInUse` when the port is taken."""
    binding(what, host, port, option, lambda: sock.bind((host, port)))
