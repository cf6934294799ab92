"""Shared setup of the economic model's tests: ``params/local.yaml`` as written, and the same
file scaled to a small network (the file sizes demand and emission for 10,000 stations; with the
fee bound, an unscaled emission over a few hundred stations would be mostly withheld)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from wattnet.params import Params, apply_overrides, load_params
from wattnet.sim.model.config import parse_model

REPO = Path(__file__).resolve().parents[3]
SMALL_STATIONS = 600


def scaled(params: Params, stations: int, overrides: dict[str, Any] | None = None) -> Params:
    """``params`` for ``stations`` stations (``model.stations``): drivers and each phase's
    emission scaled from the 10,000 the files assume, then ``overrides``."""
    scale = stations / 10_000
    regions = [dict(dataclasses.asdict(r), drivers=int(r.drivers * scale))
               for r in parse_model(params).regions]
    phases = [{"name": p.name, "epochs": p.epochs, "decay_bps": p.decay_bps,
               "emission_per_epoch": int(p.emission_per_epoch * stations // 10_000)}
              for p in params.rewards.phases]
    return apply_overrides(params, {"model.stations": stations, "model.regions": regions,
                                    "rewards.phases": phases, **(overrides or {})})


@pytest.fixture(scope="session")
def network_params() -> Callable[[str], Params]:
    """``params/<network>.yaml`` as written, loaded once."""
    return cache(lambda network: load_params(REPO / "params" / f"{network}.yaml"))


@pytest.fixture(scope="session")
def local_params(network_params: Callable[[str], Params]) -> Params:
    """params/local.yaml as written: 10,000 stations over ten years."""
    return network_params("local")


@pytest.fixture(scope="session")
def small_local(local_params: Params) -> Params:
    """local.yaml for a network of ``SMALL_STATIONS`` (600) stations."""
    return scaled(local_params, SMALL_STATIONS)
