"""The wheel ships what users import: zerobus.codegen, its templates, py.typed, the .proto."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("zerobus_toolkit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_wheel_maps_codegen_under_zerobus(wheel_names: set[str]) -> None:
    assert "zerobus/codegen/__init__.py" in wheel_names
    assert not any(name.startswith("codegen/") for name in wheel_names), "no generic top-level codegen module"
    assert not any(name.startswith("templates/") for name in wheel_names)


def test_wheel_ships_templates_typing_marker_and_proto(wheel_names: set[str]) -> None:
    templates = sorted(ROOT.joinpath("templates").glob("*.j2"))
    assert templates, "templates/ holds the Jinja2 templates"
    for template in templates:
        assert f"zerobus/codegen/templates/{template.name}" in wheel_names
    assert "zerobus/py.typed" in wheel_names
    assert "zerobus/protocol/zerobus.proto" in wheel_names


def test_every_source_package_is_in_the_wheel(wheel_names: set[str]) -> None:
    for init in ROOT.joinpath("zerobus").rglob("__init__.py"):
        relative = init.relative_to(ROOT).as_posix()
        assert relative in wheel_names, f"{relative} missing from the wheel"
