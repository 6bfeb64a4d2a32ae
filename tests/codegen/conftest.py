"""Fixtures of the codegen tests.

`scripted_catalog`: a real HTTP server on loopback that answers the OAuth token endpoint and
the Unity Catalog tables endpoint with scripted statuses and bodies. The local Zerobus server
gives the real 401/403/404 answers; this one gives what it cannot be made to (5xx, 429,
malformed answers).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tests.codegen.codegen_support import ScriptedCatalog, scripted_catalog_handler


@pytest.fixture
def scripted_catalog() -> Iterator[ScriptedCatalog]:
    catalog = ScriptedCatalog(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), scripted_catalog_handler(catalog))
    catalog.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="scripted-catalog", daemon=True)
    thread.start()
    try:
        yield catalog
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
