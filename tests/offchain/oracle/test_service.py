"""Wiring: factories named in the config, and a clean start/stop of the whole service."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import InMemoryStationDirectory
from wattnet.oracle.errors import OracleConfigError
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.service import OracleService, _factory

from .oracle_helpers import CHAIN_ID, CONTRACT

HELPERS = f"{__package__}.oracle_helpers"  # as imported here, whatever pytest's rootdir


def config(tmp_path: Path, chain: str = "", directory: str = "") -> OracleConfig:
    return OracleConfig(chain_id=CHAIN_ID, settlement_contract=CONTRACT,
                        database=str(tmp_path / "o.db"), chain=chain, directory=directory)


def test_service__factories_are_resolved_from_module_callable_and_builtins(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path, chain=f"fake:{tmp_path / 'c.db'}",
                 directory=HELPERS + ":directory_factory")
    service = OracleService(cfg)
    try:
        assert isinstance(service.chain, FakeSettlementChain)
        assert isinstance(service.directory._inner, InMemoryStationDirectory)
    finally:
        service.close()


@pytest.mark.parametrize("spec", ["", "no_such_module:thing", "HELPERS:no_such_thing"])
def test_service__unloadable_factory_is_a_clear_config_error(tmp_path: Path, spec: str) -> None:
    with pytest.raises(OracleConfigError, match="directory"):
        _factory(spec.replace("HELPERS", HELPERS), config(tmp_path), "directory")


def test_service__batcher_thread_settles_and_stops_cleanly(tmp_path: Path) -> None:
    cfg = config(tmp_path, chain=f"fake:{tmp_path / 'c.db'}",
                 directory=HELPERS + ":directory_factory")
    service = OracleService(cfg)
    service.start_batcher()
    service.close()
    assert service._batcher_thread is not None and not service._batcher_thread.is_alive()
