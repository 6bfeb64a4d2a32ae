"""This project installed, non-editable, into a temporary folder, for tools that read files.

`codegen/` and `templates/` become `zerobus.codegen` through pyproject.toml's package-dir mapping,
which an editable install resolves with an import hook that mypy cannot follow. Type-checking code
that imports `zerobus.codegen` (the package itself, generated models, examples) therefore points
mypy at a real installed copy, exactly what a user's environment holds.

The build runs on a copy of the checkout's files (tracked, and untracked but not ignored), so it
neither writes into the checkout nor picks up a stale `build/` folder.

Command line: ``python -m tests.support.installed TARGET`` (used by ``.ci/typecheck``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["install_copy", "source_files"]

REPO_ROOT = Path(__file__).resolve().parents[2]


def source_files(root: Path = REPO_ROOT) -> list[str]:
    """The checkout's files as git sees them: tracked or new, not ignored, still on disk."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    return sorted({name for name in listing.split("\0") if name and (root / name).is_file()})


def install_copy(target: Path) -> Path:
    """Install this checkout (no dependencies) into `target` and return it."""
    with tempfile.TemporaryDirectory(prefix="zerobus-source-") as tmp:
        source = Path(tmp)
        for name in source_files():
            destination = source / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, destination)
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
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return target


if __name__ == "__main__":
    install_copy(Path(sys.argv[1]))
