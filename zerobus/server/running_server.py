"""Internal: The file a running `zerobus-emulator start` keeps in its data directory: who serves it, where.

``<data_dir>/emulator.json`` holds the endpoints, the development credentials and the server's
process id, the same document as ``--ready-file``. `zerobus-emulator env` reads it to print the
export lines, and the commands that change a stopped server's data directory (``drop-table
--data-dir``, ``reset --data-dir``) refuse to run while the process it names is alive. A file
left by a killed server names a dead process and is ignored.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zerobus.server.storage.atomic_files import atomic_write

__all__ = ["SERVER_FILE", "read_server_file", "remove_server_file", "running_server", "write_server_file"]

SERVER_FILE = "emulator.json"


def write_server_file(path: Path, document: dict[str, Any]) -> None:
    """Write the document (with this process's id) atomically: readers never see half of it."""
    atomic_write(path, json.dumps(document | {"pid": os.getpid()}, indent=1).encode("utf-8"))


def read_server_file(path: Path) -> dict[str, Any] | None:
    """The document at `path`, or None when there is none (or it is not one of ours)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and "workspace_url" in document else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def running_server(data_dir: Path) -> dict[str, Any] | None:
    """The server file of a live server on `data_dir`, or None when no server runs on it."""
    document = read_server_file(data_dir / SERVER_FILE)
    return document if document is not None and _alive(document.get("pid")) else None


def remove_server_file(data_dir: Path) -> None:
    """Remove the server file if this process wrote it (never another server's)."""
    document = read_server_file(data_dir / SERVER_FILE)
    if document is not None and document.get("pid") == os.getpid():
        (data_dir / SERVER_FILE).unlink(missing_ok=True)
