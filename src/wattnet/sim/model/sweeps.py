"""Parameter sweeps over any dotted key of the params file: a grid or random points."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from wattnet.errors import ConfigError
from wattnet.params import Params, apply_overrides


@dataclass(frozen=True, slots=True)
class Axis:
    key: str
    values: tuple[Any, ...]  # grid values, or choices for random sampling
    low: float | None = None  # a range for random sampling: key=low:high
    high: float | None = None


def parse_axis(spec: str) -> Axis:
    """``key=v1,v2,...`` (values parsed as YAML scalars) or ``key=low:high`` (a range)."""
    key, sep, rest = spec.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise ConfigError(f"--sweep {spec!r} must look like key=v1,v2,... or key=low:high")
    key = key.strip()
    if ":" in rest and "," not in rest:
        lo_s, _, hi_s = rest.partition(":")
        try:
            lo, hi = float(lo_s), float(hi_s)
        except ValueError:
            raise ConfigError(f"--sweep {spec!r}: range bounds must be numbers") from None
        if not lo < hi:
            raise ConfigError(f"--sweep {spec!r}: low must be below high")
        ints = all(s.strip().lstrip("-").isdigit() for s in (lo_s, hi_s))
        values = tuple(range(int(lo), int(hi) + 1)) if ints and hi - lo <= 16 else ()
        return Axis(key, values, lo if not ints else int(lo), hi if not ints else int(hi))
    values = tuple(yaml.safe_load(v) for v in rest.split(","))
    return Axis(key, values)


def grid(axes: Sequence[Axis]) -> list[dict[str, Any]]:
    for axis in axes:
        if not axis.values:
            raise ConfigError(f"--sweep {axis.key}: a grid needs listed values (key=v1,v2,...)")
    return [
        dict(zip([a.key for a in axes], combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def random_points(axes: Sequence[Axis], n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    points: list[dict[str, Any]] = []
    for _ in range(n):
        point: dict[str, Any] = {}
        for a in axes:
            if a.low is not None and a.high is not None:
                if isinstance(a.low, int) and isinstance(a.high, int):
                    point[a.key] = int(rng.integers(a.low, a.high + 1))
                else:
                    point[a.key] = float(rng.uniform(a.low, a.high))
            else:
                point[a.key] = a.values[int(rng.integers(len(a.values)))]
        points.append(point)
    return points


def validate_points(params: Params, points: Sequence[Mapping[str, Any]]) -> list[Params]:
    """Every point applied and validated up front, so a bad value fails before any run."""
    return [apply_overrides(params, p) for p in points]
