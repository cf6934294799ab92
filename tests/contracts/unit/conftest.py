"""Unit-test modules share one deployed protocol per module. Ape isolates each test in a chain
snapshot; a module-scoped fixture first created inside a test's snapshot would be rolled back
with it (and later found missing), so the module's protocol, stablecoin and credit id are set
up before any test runs."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module", autouse=True)
def _module_protocol_first(protocol: Any, usdc: Any, credit_id: int) -> None:
    return None
