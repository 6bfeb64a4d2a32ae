"""The local server stays in small modules with one job each.

Every module of `zerobus/server` is at most 400 lines and opens with a docstring saying why it
exists: a front-end, a store or the in-process server that outgrows that is split along its
seams (setup / request loop / acks, token / tables / rows routes, lifecycle / identity / gRPC
thread), never left to grow.
"""

from __future__ import annotations

import ast
from pathlib import Path

_SERVER = Path(__file__).resolve().parents[2] / "zerobus" / "server"
_MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(path for path in _SERVER.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_server_module_is_at_most_400_lines() -> None:
    long = {
        path.relative_to(_SERVER).as_posix(): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > _MAX_LINES
    }
    assert long == {}, f"split these into modules of one job (at most {_MAX_LINES} lines)"


def test_every_server_module_says_why_it_exists() -> None:
    assert len(_modules()) > 40  # the scan found the package
    silent = [
        path.relative_to(_SERVER).as_posix()
        for path in _modules()
        if path.name != "__init__.py" and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert silent == []
