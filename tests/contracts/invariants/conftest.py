"""The state machines' budget: examples come from the hypothesis profile (HYPOTHESIS_PROFILE=
ci | dev | audit, tests/conftest.py); steps per example from HYPOTHESIS_STEPS (each machine's own
default otherwise). docs/auditing.md says how to run them deep and reproduce a failure."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest


@pytest.fixture
def steps() -> Callable[[int], int]:
    """`steps(default)`: HYPOTHESIS_STEPS when set, else the machine's default step count."""

    def pick(default: int) -> int:
        raw = os.environ.get("HYPOTHESIS_STEPS", "")
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < 1:
            raise pytest.UsageError(f"HYPOTHESIS_STEPS must be a positive integer, got {raw!r}")
        return int(raw)

    return pick
