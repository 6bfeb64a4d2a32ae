"""What every example reads: the same four environment variables as the rest of the docs.

    ZEROBUS_SERVER_ENDPOINT   the Zerobus endpoint (https://<workspace-id>.zerobus.<region>.cloud.databricks.com)
    DATABRICKS_HOST           the workspace URL (OAuth + Unity Catalog)
    DATABRICKS_CLIENT_ID      a service principal with USE CATALOG, USE SCHEMA, SELECT and MODIFY
    DATABRICKS_CLIENT_SECRET

When they are not set, `example_target()` starts the local Zerobus server in-process (data in
./zerobus-data), so every example also runs on a machine with no Databricks workspace. On a
local server the example table is created if it is missing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from zerobus.quickstart import TABLE, Target, ensure_table, open_target

__all__ = ["TABLE", "Target", "example_target"]


@contextlib.contextmanager
def example_target(data_dir: str = "zerobus-data") -> Iterator[Target]:
    """The server to use and its credentials, with the example table in place."""
    with open_target(Path(data_dir), print) as target:
        ensure_table(target, print)
        yield target
