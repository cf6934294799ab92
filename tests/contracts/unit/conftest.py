"""Unit-test modules share one deployed protocol per module. Ape isolates each test in a chain
snapshot; a module-scoped fixture first created inside a test's snapshot would be rolled back
with it (and later found missing), so the module's protocol, stablecoin and credit id are set
up before any test runs."""

from __future__ import annotations

from typing import Any

import pytest

from wattnet.chain.deploy import DeployConfig, local_config


@pytest.fixture(scope="module", autouse=True)
def _module_protocol_first(protocol: Any, usdc: Any, credit_id: int) -> None:
    return None


@pytest.fixture(scope="session")
def day_long_config() -> DeployConfig:
    """params/local.yaml with the day-long sessions and settlement windows some modules' clocks
    are written for (the file's are an hour each); such a module's ``config`` returns it."""
    return local_config({"settlement.max_settlement_delay": "3d",
                         "settlement.max_session_duration": "1d",
                         "credits.redemption_delay": "5d"})
