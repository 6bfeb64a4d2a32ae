"""Fixtures of the engine tests (helpers live in `engine.scripted`)."""

from __future__ import annotations

import pytest

from tests.engine.scripted import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
