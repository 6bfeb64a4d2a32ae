"""Settings for the whole suite.

Hypothesis keeps its example database in memory and its other files in a temporary folder: tests
never write into the checkout.
"""

from __future__ import annotations

import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import InMemoryExampleDatabase

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="zerobus-hypothesis-"))
settings.register_profile("zerobus", database=InMemoryExampleDatabase())
settings.load_profile("zerobus")
