"""Importing the SDK loads only what streaming needs: the generator's libraries stay unloaded."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import types

import pytest

import zerobus.codegen

GENERATOR_AND_SERVER_LIBRARIES = (
    "jinja2",
    "pydantic",
    "click",
    "deltalake",
    "pyarrow",
    "numpy",
    "grpclib",
    "fastavro",
)


@pytest.mark.parametrize("module", ["zerobus", "zerobus.sdk.sync", "zerobus.sdk.aio", "zerobus.sdk.shared"])
def test_sdk_import_loads_no_generator_or_server_library(module: str) -> None:
    probe = (
        f"import json, sys, {module}; "
        f"print(json.dumps([m for m in {list(GENERATOR_AND_SERVER_LIBRARIES)!r} if m in sys.modules]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == [], f"`import {module}` loaded {result.stdout.strip()}"


def test_every_public_codegen_name_resolves_to_itself_not_to_a_submodule() -> None:
    # A submodule named like a public function would replace it on the package once imported.
    for module in pkgutil.iter_modules(zerobus.codegen.__path__, "zerobus.codegen."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    for name in zerobus.codegen.__all__:
        value = getattr(zerobus.codegen, name)
        assert not isinstance(value, types.ModuleType), f"zerobus.codegen.{name} is a module"
    assert set(zerobus.codegen.__all__) <= set(dir(zerobus.codegen))
