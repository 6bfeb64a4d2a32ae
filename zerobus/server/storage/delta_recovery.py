"""Internal: Repair what a crash can leave of a Delta table at start, and name tables that cannot be opened.

Creating a Delta table makes ``_delta_log/`` before it writes the first commit, so a crash in
between leaves a log with no commit, which deltalake refuses to open ("not a Delta table").
Nothing was ever committed, so nothing can be lost: the empty log is removed and the table is
created again from the catalog's schema. Anything else that stops a table from opening (a
commit file that is not JSON, for example) is not guessed at: the table is reported
unavailable and every other table is served.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from zerobus.server.storage.catalog import TableNotFound

__all__ = ["TableUnavailable", "remove_log_without_commit"]

logger = logging.getLogger(__name__)

# Commit files (00000000000000000000.json) and checkpoints: what makes a Delta log readable.
_COMMITTED = re.compile(r"\d{20}\.(json|checkpoint(\.\d+\.\d+)?\.parquet)")


class TableUnavailable(TableNotFound):
    """The table is in the catalog but could not be opened at start (`reason` says why)."""

    def __init__(self, full_name: str, reason: str) -> None:
        super().__init__(full_name)
        self.reason = reason

    def __str__(self) -> str:
        return (
            f"Table '{self.full_name}' is unavailable: it could not be opened when the server started "
            f"({self.reason}); drop it, or repair its Delta log and restart the server."
        )


def remove_log_without_commit(delta_path: Path) -> bool:
    """Remove a ``_delta_log/`` that holds no commit at all (True if one was removed)."""
    log = delta_path / "_delta_log"
    if not log.is_dir():
        return False
    if any(_COMMITTED.fullmatch(entry.name) for entry in log.iterdir()):
        return False
    logger.warning(
        "Delta table %s: _delta_log/ holds no commit (a crash while the table was created); "
        "nothing was ever written to it, creating the table again",
        delta_path,
    )
    shutil.rmtree(log)
    return True
