"""Internal: The local server's wire front-ends: gRPC ingest, Arrow Flight `DoPut` and the workspace HTTP API.

They translate requests and answers; what is allowed and how records are decoded is decided by
the server core (`zerobus.server.core`) and checked by `zerobus.server.validation`.
"""
