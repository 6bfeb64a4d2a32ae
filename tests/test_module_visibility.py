"""Which modules users may import: docs/ARCHITECTURE.md lists them, every other one says "Internal".

A module not meant for users starts its docstring with "Internal:" (its classes may still be
public through a listed module that exports them). The list and the markers must agree, so a
new module is either documented for users or marked, never neither.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
# Where each package's files live in the checkout (codegen/ is installed as zerobus.codegen).
SOURCES = {"zerobus": ROOT / "zerobus", "zerobus.codegen": ROOT / "codegen"}
MARKER = "Internal:"


def public_modules() -> set[str]:
    """The modules of the "Public modules" section of docs/ARCHITECTURE.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("## Public modules", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `(zerobus(?:\.\w+)*)`", section, flags=re.MULTILINE))


def package_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def first_line(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return docstring.split("\n", 1)[0]


def test_the_listed_public_modules_exist_and_are_not_marked_internal() -> None:
    listed, modules = public_modules(), package_modules()
    assert "zerobus.sdk.sync" in listed and "zerobus" in listed
    assert sorted(listed - modules.keys()) == []
    assert sorted(name for name in listed if first_line(modules[name]).startswith(MARKER)) == []


@pytest.mark.parametrize("name", sorted(package_modules().keys() - public_modules()))
def test_every_other_module_says_it_is_internal(name: str) -> None:
    line = first_line(package_modules()[name])
    assert line.startswith(MARKER), (
        f"{name}: list it in docs/ARCHITECTURE.md or start its docstring with {MARKER!r}"
    )
