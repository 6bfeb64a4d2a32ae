"""Internal: The table schema a PROTO stream needs when the user gave no descriptor.

Read from Unity Catalog with the codegen engineer's client (`zerobus.codegen.api.load_schema`),
authenticated with a metadata token from the stream's client credentials, or with the
authorization header of a custom headers provider.
"""

from __future__ import annotations

import requests

from zerobus.schema.ir import TableSchema

__all__ = ["fetch_table_schema"]


def fetch_table_schema(
    table: str,
    workspace_url: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    bearer_token: str | None = None,
    session: requests.Session | None = None,
) -> TableSchema:
    """The table's columns from `GET /api/2.1/unity-catalog/tables/{table}`, checked for Zerobus."""
    from zerobus.codegen.api import load_schema

    return load_schema(
        table,
        host=workspace_url,
        client_id=client_id,
        client_secret=client_secret,
        token=bearer_token,
        session=session,
    )
