"""Internal: The gRPC port of a local server: grpclib serving EphemeralStream and Flight DoPut in a thread.

grpclib runs on asyncio; the local server's public API is synchronous and callable from any
thread, so the event loop gets a thread of its own. `start()` returns once the port accepts
calls (or raises why it cannot, naming the port); `stop()` ends open streams with a retryable
status, closes the server and drops the connections that are left.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from zerobus.server.frontends.grpc_listener import ConnectionTrackingListener, grpc_listener
from zerobus.server.ports import bind_socket

if TYPE_CHECKING:
    from zerobus.server.frontends.stream_registry import StreamRegistry
    from zerobus.server.identity.tls import TlsFiles
    from zerobus.server.server_core import ServerCore

__all__ = ["GrpcServerThread"]

logger = logging.getLogger(__name__)


class GrpcServerThread:
    """The grpclib server and the event loop thread it runs on."""

    def __init__(self) -> None:
        self.port = 0
        self.registry: StreamRegistry | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._listener: ConnectionTrackingListener | None = None

    @property
    def open_streams(self) -> int:
        registry = self.registry
        return 0 if registry is None else len(registry.calls)

    def start(self, core: ServerCore, host: str, port: int, tls_files: TlsFiles | None) -> None:
        """Listen on `host`:`port` (0: a free port, then in `self.port`) and serve `core`."""
        from grpclib.server import Server

        from zerobus.server.frontends.flight_service import FlightIngestService
        from zerobus.server.frontends.grpc_service import (
            RawCodec,
            ZerobusService,
            quiet_expected_cancellations,
        )
        from zerobus.server.frontends.observability import install_grpc_request_log
        from zerobus.server.frontends.stream_registry import StreamRegistry

        quiet_expected_cancellations()
        sock = grpc_listener(host)
        try:
            bind_socket(sock, "gRPC", host, port, "--grpc-port")
        except BaseException:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._listener = sock
        loop = asyncio.new_event_loop()
        self._loop = loop
        registry = StreamRegistry(loop)
        self.registry = registry
        core.durable_listener = registry.on_durable
        core.faults.add_listener(registry.wake_all)
        core.faults.set_close_signal_handler(registry.close_signal_all)
        ready = threading.Event()
        failure: list[BaseException] = []
        grpc_context = None
        if tls_files is not None:
            from zerobus.server.identity.tls import grpc_server_context

            grpc_context = grpc_server_context(tls_files)

        async def serve() -> None:
            try:
                services: list[ZerobusService | FlightIngestService] = [
                    ZerobusService(core, registry),
                    FlightIngestService(core, registry),
                ]
                server = Server(services, codec=RawCodec())
                install_grpc_request_log(server)
                await server.start(sock=sock, ssl=grpc_context)
                self._server = server
            except BaseException as error:
                failure.append(error)
                raise
            finally:
                ready.set()

        def run_loop() -> None:
            asyncio.set_event_loop(loop)
            task = loop.create_task(serve())
            loop.run_forever()
            del task
            loop.close()

        self._thread = threading.Thread(target=run_loop, name="zerobus-grpc", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self) -> None:
        """End open streams (retryable status), close the server, stop the loop thread."""
        loop, server, registry, listener = self._loop, self._server, self.registry, self._listener
        if loop is None:
            return
        if server is not None and registry is not None and listener is not None:

            async def close() -> None:
                # Open streams end with a retryable status; then the connections drop.
                await registry.end_all(timeout_s=2.0)
                server.close()
                await server.wait_closed()
                listener.drop_connections()

            try:
                asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=30)
            except Exception:
                logger.exception("closing the gRPC server failed")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join()
