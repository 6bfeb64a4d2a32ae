"""The schema core, the encoders and the generator stay in small modules with one job each.

Every module of `zerobus/schema`, `zerobus/encoders` and `codegen/` is at most 400 lines and
opens with a docstring saying why it exists. The per-type table is the one module allowed to be
longer: splitting it would spread the facts of one Delta type over several files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
_PACKAGES = ("zerobus/schema", "zerobus/encoders", "codegen")
_MAX_LINES = 400
_LONGER_ALLOWED = {
    "zerobus/schema/delta_types_table.py": "one row per Delta type, kept whole on purpose",
}


def _modules(root: Path) -> list[Path]:
    return sorted(
        path for top in _PACKAGES for path in (root / top).rglob("*.py") if "__pycache__" not in path.parts
    )


def _long_modules(root: Path) -> list[str]:
    """Modules over the limit, as ``path: N lines``."""
    found = []
    for path in _modules(root):
        name = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > _MAX_LINES and name not in _LONGER_ALLOWED:
            found.append(f"{name}: {lines} lines")
    return found


def test_the_scanned_folders_hold_the_schema_core() -> None:
    names = {path.relative_to(_ROOT).as_posix() for path in _modules(_ROOT)}
    assert {"zerobus/schema/parse.py", "zerobus/schema/python_to_wire.py", "codegen/api.py"} <= names
    assert set(_LONGER_ALLOWED) <= names


def test_every_module_is_at_most_400_lines() -> None:
    assert _long_modules(_ROOT) == [], f"split these into modules of one job (at most {_MAX_LINES} lines)"


def test_the_float_bound_is_spelled_only_in_the_type_table() -> None:
    """The largest FLOAT is a fact of the FLOAT row: every range check imports it from there."""
    spelled = [
        path.relative_to(_ROOT).as_posix()
        for top in ("zerobus", "codegen", "templates")
        for path in (_ROOT / top).rglob("*")
        if path.suffix in (".py", ".j2", ".jinja") and "3.4028" in path.read_text(encoding="utf-8")
    ]
    assert spelled == ["zerobus/schema/delta_types_table.py"]


@pytest.mark.parametrize("path", _modules(_ROOT), ids=lambda path: path.relative_to(_ROOT).as_posix())
def test_every_module_says_why_it_exists(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.relative_to(_ROOT).as_posix()} has no module docstring"
