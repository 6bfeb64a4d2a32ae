"""Installed beside the official SDK (both own a top-level `zerobus` package), import fails clearly.

A real `pip install` of the official package into this venv would overwrite our files, so the
official distribution is stood in for by its metadata alone: a `.dist-info` directory on
`sys.path`, which is all `importlib.metadata` looks at.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

IMPORTS = [
    "zerobus",
    "zerobus.sdk.sync",
    "zerobus.sdk.aio",
    "zerobus.codegen",
    "zerobus.tools.generate_proto",
]


def _fake_distribution(site: Path, name: str, version: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def _import_with(site: Path, module: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; sys.path.insert(0, {str(site)!r}); import {module}"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("module", IMPORTS)
def test_import_fails_naming_both_distributions_and_the_fix(tmp_path: Path, module: str) -> None:
    _fake_distribution(tmp_path, "databricks-zerobus-ingest-sdk", "1.10.0")
    result = _import_with(tmp_path, module)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ImportError: zerobus-toolkit and databricks-zerobus-ingest-sdk 1.10.0 ")
    assert str(tmp_path) in last_line
    assert "overwrite each other's files" in last_line
    assert "virtual environment" in last_line and "pip uninstall" in last_line


def test_other_distributions_do_not_trigger_it(tmp_path: Path) -> None:
    # A neighbour with a similar name (and our own metadata) is no conflict.
    _fake_distribution(tmp_path, "databricks-zerobus-ingest-sdk-extras", "1.0.0")
    _fake_distribution(tmp_path, "zerobus-toolkit", "0.1.0")
    result = _import_with(tmp_path, "zerobus.sdk.sync")
    assert result.returncode == 0, result.stderr
