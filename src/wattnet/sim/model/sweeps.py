"""Parameter sweeps over any dotted key of the params file: a grid or random points.

``key=v1,v2`` sweeps one key; ``k1+k2=a1/a2,b1/b2`` moves linked keys together (e.g. the three
settlement shares, which must sum to 10000); ``key=low:high`` is a range for random sampling.
"""

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
    key: str  # one dotted key, or linked keys joined by "+"
    values: tuple[Any, ...]  # grid values, or choices for random sampling (tuples if linked)
    low: float | None = None  # a range for random sampling: key=low:high
    high: float | None = None

    def put(self, point: dict[str, Any], value: Any) -> None:
        if "+" in self.key:
            point.update(zip(self.key.split("+"), value, strict=True))
        else:
            point[self.key] = value


def parse_axis(spec: str) -> Axis:
    """``key=v1,v2,...`` (values parsed as YAML scalars) or ``key=low:high`` (a range)."""
    key, sep, rest = spec.partition("=")
    if not sep or not key.strip() or not rest.strip():
        raise ConfigError(f"--sweep {spec!r} must look like key=v1,v2,... or key=low:high")
    key = key.strip()
    if "+" in key:
        keys = [k.strip() for k in key.split("+")]
        linked = tuple(tuple(yaml.safe_load(x) for x in v.split("/")) for v in rest.split(","))
        if any(len(v) != len(keys) for v in linked) or not all(keys):
            raise ConfigError(
                f"--sweep {spec!r}: linked keys need one value per key in each point, e.g. "
                "a+b=1/2,3/4"
            )
        return Axis("+".join(keys), linked)
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
    points: list[dict[str, Any]] = []
    for combo in itertools.product(*(a.values for a in axes)):
        point: dict[str, Any] = {}
        for axis, value in zip(axes, combo, strict=True):
            axis.put(point, value)
        points.append(point)
    return points


def random_points(axes: Sequence[Axis], n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31,)))
    points: list[dict[str, Any]] = []
    for _ in range(n):
        point: dict[str, Any] = {}
        for a in axes:
            if a.low is not None and a.high is not None:
                if isinstance(a.low, int) and isinstance(a.high, int):
                    a.put(point, int(rng.integers(a.low, a.high + 1)))
                else:
                    a.put(point, float(rng.uniform(a.low, a.high)))
            else:
                a.put(point, a.values[int(rng.integers(len(a.values)))])
        points.append(point)
    return points


def validate_points(params: Params, points: Sequence[Mapping[str, Any]]) -> list[Params]:
    """Every point applied and validated up front, so a bad value fails before any run."""
    return [apply_overrides(params, p) for p in points]
