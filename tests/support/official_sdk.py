"""The official Databricks Zerobus SDK, installed from PyPI into its own venv.

The official `databricks-zerobus-ingest-sdk` installs a package named `zerobus`, like ours, so it
can never share a venv with this project. `official_sdk_python()` creates (once, lazily) a venv in
the user's cache directory (`$XDG_CACHE_HOME` or `~/.cache`, under `zerobus-toolkit/`; never inside
the checkout), pip-installs the SDK there, and returns its interpreter;
tests and benchmarks run scripts with it through `subprocess`. Where the package cannot be
installed (no network, no wheel for this platform), it returns None and the reason, so tests can
skip saying why. Set `ZEROBUS_OFFICIAL_PYTHON` to use an interpreter you prepared yourself.

Run scripts with ``python -I`` (or from a directory outside the repo): otherwise the repo's own
`zerobus/` package, found through the current directory, shadows the official one.
"""

from __future__ import annotations

import fcntl
import functools
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

__all__ = [
    "OFFICIAL_SDK_REQUIREMENT",
    "VENV_DIR",
    "official_command",
    "official_env",
    "official_sdk_python",
    "require_official_sdk_python",
    "run_official",
]

OFFICIAL_SDK_REQUIREMENT = "databricks-zerobus-ingest-sdk[arrow]>=1.10,<1.11"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zerobus-toolkit"
VENV_DIR = CACHE_DIR / "official-sdk-1.10"
_INSTALL_TIMEOUT_S = 600


def _interpreter(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _has_sdk(python: Path) -> bool:
    # pyarrow too: a venv made before the Arrow extra was required gets it installed.
    probe = "import zerobus._zerobus_core, zerobus.sdk.sync, pyarrow"
    try:
        result = subprocess.run(
            official_command(python, "-c", probe), capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@functools.lru_cache(maxsize=1)
def official_sdk_python() -> tuple[Path | None, str]:
    """`(interpreter, "")` with the official SDK importable, or `(None, reason)`."""
    override = os.environ.get("ZEROBUS_OFFICIAL_PYTHON")
    if override:
        python = Path(override)
        if _has_sdk(python):
            return python, ""
        return None, f"ZEROBUS_OFFICIAL_PYTHON={override} cannot import the official zerobus SDK"
    python = _interpreter(VENV_DIR)
    VENV_DIR.parent.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / "official-sdk-1.10.lock", "w") as lock:
        # Several test processes may ask at once: one creates the venv, the others wait.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if python.exists() and _has_sdk(python):
            return python, ""
        try:
            if not python.exists():
                venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
            result = subprocess.run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    OFFICIAL_SDK_REQUIREMENT,
                ],
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return None, f"could not create {VENV_DIR} for {OFFICIAL_SDK_REQUIREMENT}: {error}"
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            return None, f"pip could not install {OFFICIAL_SDK_REQUIREMENT}: {' | '.join(tail)}"
        if not _has_sdk(python):
            return None, f"{OFFICIAL_SDK_REQUIREMENT} installed but its native core does not import here"
        return python, ""


def require_official_sdk_python() -> Path:
    """The interpreter, or skip the calling test with the reason (for use inside pytest tests)."""
    import pytest

    python, reason = official_sdk_python()
    if python is None:
        pytest.skip(f"official Zerobus SDK unavailable: {reason}")
    return python


# The official client's Rust core logs to file descriptor 1, which would interleave its lines
# with the script's own output that tests parse: point descriptor 1 at stderr and give Python's
# `sys.stdout` a private copy of the original, before the script (or `-c` code) runs.
_STDOUT_FOR_SCRIPT_ONLY = "import os, sys; sys.stdout = os.fdopen(os.dup(1), 'w', buffering=1); os.dup2(2, 1)"
_RUN_SCRIPT = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"


def official_command(python: Path, *args: str) -> list[str]:
    """The argv running `args` (a script path and its arguments, or ``-c`` and code) with the
    official venv's interpreter, isolated (``-I``) so this repo's own `zerobus` package can never
    shadow the official one; only the script writes to stdout, the client's logs go to stderr."""
    if args and args[0] == "-c":
        return [str(python), "-I", "-c", f"{_STDOUT_FOR_SCRIPT_ONLY}\n{args[1]}", *args[2:]]
    return [str(python), "-I", "-c", f"{_STDOUT_FOR_SCRIPT_ONLY}\n{_RUN_SCRIPT}", *args]


def official_env(rust_log: str = "warn") -> dict[str, str]:
    """The environment for the official SDK's processes (its Rust core logs through RUST_LOG)."""
    return dict(os.environ, RUST_LOG=rust_log)


# Run from outside the repo too: the current directory must not hold a `zerobus` package.
OFFICIAL_CWD = tempfile.gettempdir()


def run_official(
    python: Path, *args: str, stdin: str = "", timeout: float = 120, rust_log: str = "warn"
) -> subprocess.CompletedProcess[str]:
    """Run `args` (a script path, or ``-c`` and code) in the official venv; never raises on failure."""
    return subprocess.run(
        official_command(python, *args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=OFFICIAL_CWD,
        env=official_env(rust_log),
    )
