"""Our public surface against the official SDK 1.10's, name by name (generated from the official package).

`official_surface_script.py` runs in the official SDK's own venv and prints every public module,
name, class member and parameter of it; `surface.compare` checks ours has each, callable the same
way. Every difference must be listed, with its reason, in `official_1_10_known_gaps.txt`; a
listed gap that has been closed fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import surface
from tests.support.official_sdk import require_official_sdk_python, run_official

pytestmark = pytest.mark.official_sdk

HERE = Path(__file__).parent
SCRIPT = HERE / "official_surface_script.py"
KNOWN_GAPS = HERE / "official_1_10_known_gaps.txt"


@pytest.fixture(scope="module")
def official_surface() -> dict[str, Any]:
    python = require_official_sdk_python()
    result = run_official(python, str(SCRIPT))
    assert result.returncode == 0, result.stderr[-4000:]
    return dict(json.loads(result.stdout))


def test_the_official_surface_was_read(official_surface: dict[str, Any]) -> None:
    modules = set(official_surface["modules"])
    assert {"zerobus", "zerobus.sdk.sync", "zerobus.sdk.aio", "zerobus.tools.generate_proto"} <= modules
    names = {(e["module"], e["name"]) for e in official_surface["entries"]}
    assert ("zerobus.sdk.sync", "ZerobusSdk") in names and ("zerobus", "TableProperties") in names


def test_every_official_name_is_ours_or_a_listed_gap(
    official_surface: dict[str, Any], record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    report = surface.compare(official_surface)
    gaps = surface.parse_gaps(KNOWN_GAPS)
    score = report.score()
    record_property("conformance", score)
    surface.SCORES.append(score)
    with capsys.disabled():
        print(f"\nconformance: {score}")
    unlisted = surface.uncovered(report.problems, gaps)
    closed = surface.stale_gaps(report.problems, gaps)
    message = [f"{p.item}: {p.reason}" for p in unlisted]
    message += [f"{KNOWN_GAPS.name}:{g.line}: {g.key} is no gap any more: remove the line" for g in closed]
    assert not message, "\n".join(message)


def test_gap_keys_are_written_once() -> None:
    keys = [gap.key for gap in surface.parse_gaps(KNOWN_GAPS)]
    assert len(keys) == len(set(keys))
