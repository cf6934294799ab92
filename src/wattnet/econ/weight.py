"""Reward weight: what a settled session adds to its station's epoch record
(``SessionSettlement._accrue``, ``_load``; ``StationRegistry.settlementView``,
``certifyMeter``, ``_effectiveMultiplier``, ``regionMultiplier``).

A session earns weight only if it was paid (cost > 0), its driver is not the station's operator
and its receipt commits to signed meter readings. Its energy counts up to the station's epoch
cap, ``rated_power_w * 604800 * cap_bps // (3600 * 10000)`` Wh, and earns
``energy * multiplier // 10000`` weight, rounded down per session. The rated power is the
declared one (at most 2 MW), capped by the certificate's maximum while a certified meter is
bound. The multiplier is the station's cached region multiplier (the longest listed geohash
prefix, 10000 if none; a boost above 10000 only for an attested location), copied when the
station registers and again on ``syncRegion`` or ``attestLocation``, scaled by
``uncertified_reward_bps`` for a station without a certified meter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wattnet.econ.units import (
    BPS,
    DEFAULT_MULTIPLIER_BPS,
    EPOCH_LENGTH,
    HOUR,
    MAX_GEOHASH_LENGTH,
    lesser,
)


def epoch_cap_wh(rated_power_w: Any, cap_bps: int) -> Any:
    """The most energy a station's sessions can count in one epoch (``_load``)."""
    return rated_power_w * EPOCH_LENGTH * cap_bps // (HOUR * BPS)


def rated_power_w(declared_w: int, certified_max_w: int | None) -> int:
    """The power the registry holds: the declared one, capped by a certified meter's maximum."""
    if certified_max_w is None:
        return declared_w
    return min(declared_w, certified_max_w)


def station_kw(rated_power_w: Any) -> Any:
    """kW bonded at stake for a station (``StationRegistry._kw``, rounded up)."""
    return (rated_power_w + 999) // 1000


def region_multiplier(table: Iterable[tuple[str, int]], geohash: str) -> int:
    """``regionMultiplier``: the bps of the longest listed prefix of ``geohash`` (its first 8
    characters), 10000 if none; a prefix set to 0 is not listed."""
    g = geohash[:MAX_GEOHASH_LENGTH]
    best, best_len = DEFAULT_MULTIPLIER_BPS, 0
    for prefix, bps in table:
        if bps and g.startswith(prefix) and len(prefix) > best_len:
            best, best_len = bps, len(prefix)
    return best


def effective_multiplier(region_bps: int, attested: bool) -> int:
    """``_effectiveMultiplier``: a boost needs an attested location; a penalty applies always."""
    return DEFAULT_MULTIPLIER_BPS if region_bps > DEFAULT_MULTIPLIER_BPS and not attested \
        else region_bps


def settlement_multiplier(cached_bps: Any, certified: Any, uncertified_bps: int) -> Any:
    """``settlementView.multiplierBps``: the cached multiplier, scaled for an uncertified meter
    (``certified`` may be an array of bools)."""
    scaled = cached_bps * uncertified_bps // BPS
    if isinstance(certified, bool):
        return cached_bps if certified else scaled
    import numpy as np

    return np.where(certified, cached_bps, scaled)


def earns_weight(cost: int, driver_is_operator: bool, commits_readings: bool) -> bool:
    """Whether a settled session adds weight (``_settleOne``)."""
    return cost != 0 and not driver_is_operator and commits_readings


def accrue(rewarded_wh: Any, energy_wh: Any, cap_wh: Any, multiplier_bps: Any) -> tuple[Any, Any]:
    """``_accrue`` for one session: the station's counted energy after it, and the weight it
    adds. Energy beyond the cap counts for nothing; energy under it counts even when its weight
    rounds to 0."""
    room = lesser(cap_wh - lesser(rewarded_wh, cap_wh), energy_wh)
    return rewarded_wh + room, room * multiplier_bps // BPS


def weight(energy_wh: Any, cap_wh: Any, multiplier_bps: Any) -> Any:
    """The weight of a station-epoch whose sessions are taken as one (the economic model's
    granularity): ``accrue`` from an empty record, ``min(energy, cap) * multiplier // 10000``.
    Per session the chain rounds down each time, so over ``n`` sessions its weight is lower by
    less than ``n``."""
    return lesser(energy_wh, cap_wh) * multiplier_bps // BPS
