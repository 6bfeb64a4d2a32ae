"""Code written for this SDK's first releases (and the README's examples) imports unchanged.

The README's and examples' import lines are collected and run, so an example can never name
something the package stopped exporting; the first releases' spellings are pinned too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"```python\n(.*?)```", re.S)

SEED_IMPORTS = [
    "from zerobus.sdk import ZerobusSdk, ZerobusStream, RecordAcknowledgment, TableProperties",
    "from zerobus.sdk import StreamConfigurationOptions, RecordType, ZerobusException, NonRetriableException",
    "from zerobus.sdk.sync import ZerobusSdk, ZerobusStream, TableProperties, StreamConfigurationOptions",
    "from zerobus.sdk.aio import ZerobusSdk, ZerobusStream, TableProperties, StreamConfigurationOptions",
    "from zerobus.sdk.shared import TableProperties, StreamConfigurationOptions, RecordType, StreamState",
    "from zerobus.sdk.shared import IngestRecordResponse, ZerobusException, NonRetriableException, AckCallback",
    "from zerobus.sdk.shared import HeadersProvider, OAuthHeadersProvider",
    "from zerobus.sdk.shared.headers_provider import HeadersProvider, OAuthHeadersProvider",
    "from zerobus.sdk.shared.definitions import RecordType, StreamState, TableProperties, ZerobusException",
    "from zerobus.sdk.shared.config import AckCallback, StreamConfigurationOptions",
    "from zerobus.sdk.sync.zerobus_sdk import ZerobusSdk, ZerobusStream, RecordAcknowledgment",
    "from zerobus.sdk.aio.zerobus_sdk import ZerobusSdk, ZerobusStream",
    "from zerobus import ZerobusSdk, TableProperties, AckCallback, HeadersProvider, RecordAcknowledgment",
]


def _import_lines(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zerobus"))
        or (isinstance(node, ast.Import) and any(a.name.startswith("zerobus") for a in node.names))
    ]


def _documented_imports() -> list[str]:
    lines = [
        line for block in FENCE.findall((ROOT / "README.md").read_text()) for line in _import_lines(block)
    ]
    for example in sorted((ROOT / "examples").glob("*.py")):
        lines += _import_lines(example.read_text())
    return sorted(set(lines))


DOCUMENTED = _documented_imports()
# Third-party packages that only an optional extra installs.
OPTIONAL_EXTRAS = {"pyspark", "py4j", "opentelemetry", "fastavro", "polars", "pandas"}


def test_the_readme_and_examples_have_imports() -> None:
    assert "from zerobus.sdk.sync import TableProperties, ZerobusSdk" in DOCUMENTED


@pytest.mark.parametrize("statement", SEED_IMPORTS + DOCUMENTED)
def test_import(statement: str) -> None:
    namespace: dict[str, object] = {}
    try:
        exec(statement, namespace)
    except ImportError as error:
        # A block for an optional extra (pyspark, opentelemetry...) imports only where it is installed.
        missing = error if isinstance(error, ModuleNotFoundError) else error.__cause__
        if isinstance(missing, ModuleNotFoundError) and (missing.name or "").split(".")[0] in OPTIONAL_EXTRAS:
            pytest.skip(f"{statement}: needs {missing.name}, an optional extra not installed here")
        raise
    imported = [name for name in namespace if name != "__builtins__"]
    assert imported and all(namespace[name] is not None for name in imported)


def test_one_class_under_every_path() -> None:
    from zerobus import sdk
    from zerobus.sdk import shared, sync
    from zerobus.sdk.shared import config, definitions

    assert sdk.ZerobusSdk is sync.ZerobusSdk
    assert definitions.TableProperties is shared.TableProperties is sdk.TableProperties
    assert config.StreamConfigurationOptions is shared.StreamConfigurationOptions
