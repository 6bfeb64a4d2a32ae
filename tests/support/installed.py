"""This project installed, non-editable, into a temporary folder, for tools that read files.

`codegen/` and `templates/` become `zerobus.codegen` through pyproject.toml's package-dir mapping,
which an editable install resolves with an import hook that mypy cannot follow. Type-checking code
that imports `zerobus.codegen` (generated models, examples) therefore points MYPYPATH at a real
installed copy, exactly what a user's environment holds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

__all__ = ["install_copy"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def install_copy(target: Path) -> Path:
    """Install this checkout (no dependencies) into `target` and return it."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-compile",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return target
