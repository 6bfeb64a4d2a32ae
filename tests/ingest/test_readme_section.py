"""The README's "Ingesting files" section shows only flags the command has."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.ingest.conftest import INGEST

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_flag_the_section_shows_is_in_the_help() -> None:
    text = README.read_text()
    start = text.index("## Ingesting files")
    section = text[start : text.index("\n## ", start + 1)]
    flags = set(re.findall(r"(--[a-z][a-z-]+)", section))
    assert {"--table", "--dead-letter", "--timestamp-unit", "--format", "--progress"} <= flags
    help_text = subprocess.run([INGEST, "--help"], capture_output=True, text=True, check=True).stdout
    assert not {flag for flag in flags if flag not in help_text}
