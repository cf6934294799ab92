"""The contracts' constants the economic rules need, named as in Solidity, and one helper.

Every rule in :mod:`wattnet.econ` takes and returns integers in the contracts' own units unless
its docstring says otherwise: WATT in wei, money in credit units (the smallest unit of a
stablecoin) or USD wei (18 decimals), energy in Wh, power in W, time in seconds, shares in bps.
The same functions accept numpy integer arrays (the economic model's vectors); only
:func:`lesser` and :func:`mul_div` need to know which they were given.
"""

from __future__ import annotations

from typing import Any

BPS = 10_000
WAD = 10**18  # wei per WATT; USD wei per USD
EPOCH_LENGTH = 604_800  # RewardsEngine.EPOCH_LENGTH, SessionSettlement.EPOCH_LENGTH
HOUR = 3_600
MAX_PHASES = 32  # RewardsEngine.MAX_PHASES
MAX_EPOCH = 2**32 - 1  # RewardsEngine.Phase.endEpoch is a uint32
DEFAULT_MULTIPLIER_BPS = 10_000  # StationRegistry.DEFAULT_MULTIPLIER_BPS
MIN_MULTIPLIER_BPS = 5_000  # StationRegistry.MIN_MULTIPLIER_BPS
MAX_MULTIPLIER_BPS = 30_000  # StationRegistry.MAX_MULTIPLIER_BPS
MAX_RATED_POWER_W = 2_000_000  # StationRegistry.MAX_RATED_POWER_W
MAX_GEOHASH_LENGTH = 8  # StationRegistry.MAX_GEOHASH_LENGTH
MAX_CREDIT_DECIMALS = 20  # EnergyCredits.listCredit
MAX_TARIFF_PER_KWH = 2**88 - 1  # StationRegistry: tariffs are stored as uint88

# numpy int64 holds products below this exactly (2**63, with a bit of margin for the sum).
_INT64_SAFE = 2**62


def lesser(a: Any, b: Any) -> Any:
    """``a < b ? a : b`` for Python ints, elementwise for numpy arrays."""
    if isinstance(a, int) and isinstance(b, int):
        return a if a < b else b
    import numpy as np

    return np.minimum(a, b)


def mul_div(a: Any, b: Any, d: Any) -> Any:
    """``floor(a * b / d)`` for non-negative integers, exactly (Solidity's ``a * b / d`` without
    overflow). Python ints are exact anyway; for int64 arrays whose product could pass 2**62 the
    product is taken in Python integers (object arrays: exact, slower)."""
    if isinstance(a, int) and isinstance(b, int) and isinstance(d, int):
        return a * b // d
    import numpy as np

    a_, b_ = np.asarray(a), np.asarray(b)
    if a_.size == 0 or b_.size == 0 or float(a_.max()) * float(b_.max()) < _INT64_SAFE:
        out = a_ * b_
        out //= d  # in place: the model calls this on every station every epoch
        return out
    wide = a_.astype(object) * b_.astype(object) // np.asarray(d).astype(object)
    return wide.astype(np.int64)
