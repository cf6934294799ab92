"""Claims: a station's reward for an epoch, its escrow and findings' forfeits
(``RewardsEngine._share``, ``claim``, ``claimableAt``, ``forfeit``, ``wattPrice``).

A station's reward for a closed epoch is the smaller of its share of the epoch's emission by
weight, ``emission * weight // total_weight`` (0 when the epoch has no weight), and the fee bound,
``fees * fee_multiple_bps * WAD // (10000 * price)`` with ``fees`` its retained fees and
``price = max(price_floor, feed)``, both in USD wei. It is minted only when claimed, and only from
``claimableAt(e) = genesis + (e + 1) * EPOCH + challenge_window``. Nothing else is ever minted:
the rounding remainders, an epoch without weight, what the fee bound withholds and what a
finding forfeits stay unminted for good. A finding forfeits a station's epoch only while it is
unclaimed and before ``claimableAt``; a station registered after an epoch ended earns nothing
for it (a released id's earlier registration).
"""

from __future__ import annotations

from typing import Any

from wattnet.econ.units import BPS, EPOCH_LENGTH, WAD, lesser, mul_div


def share_by_weight(emission: Any, weight: Any, total_weight: Any) -> Any:
    """``emission * weight // total_weight``, 0 when ``total_weight`` is 0 (exact; arrays
    broadcast, ``emission`` and ``total_weight`` may be per run)."""
    if isinstance(total_weight, int):
        return mul_div(emission, weight, total_weight) if total_weight else 0
    import numpy as np

    live = np.asarray(total_weight) > 0
    t = np.maximum(total_weight, 1)
    # floor(E w / T) = q w + floor(r w / T) with E = q T + r: q w <= E, r w < T w
    q, r = np.divmod(emission, t)
    out = mul_div(r * live, weight, t)
    out += (q * live) * weight
    return out


def fee_bound(fees: Any, fee_multiple_bps: int, price: Any, token_unit: int = WAD) -> Any:
    """``fees * fee_multiple_bps * WAD // (10000 * price)``: the most a station's epoch reward
    may be worth. ``WAD // 10000`` is exact, so this is ``fees * multiple * (WAD // 10000) //
    price``. With ``fees`` in credit units, ``price`` in credit units per WATT and
    ``token_unit`` the model's token units per WATT it is the same bound in those units (the
    chain's figure floored to the unit), as long as the credit has 2..18 decimals."""
    return fees * (fee_multiple_bps * (token_unit // BPS)) // price


def reward(emission: Any, weight: Any, total_weight: Any, fees: Any, fee_multiple_bps: int,
           price: Any, token_unit: int = WAD) -> Any:
    """``_share``: the weight share, at most the fee bound."""
    return lesser(share_by_weight(emission, weight, total_weight),
                  fee_bound(fees, fee_multiple_bps, price, token_unit))


def watt_price(price_floor: Any, feed: Any = 0) -> Any:
    """``wattPrice``: the feed's (fresh, not jumped) answer, never below the floor."""
    if isinstance(price_floor, int) and isinstance(feed, int):
        return max(price_floor, feed)
    import numpy as np

    return np.maximum(price_floor, feed)


def epoch_of(genesis: int, timestamp: int) -> int:
    """The epoch containing ``timestamp`` (settlement adds weight to the epoch of the batch)."""
    return (timestamp - genesis) // EPOCH_LENGTH


def claimable_at(genesis: int, epoch: int, challenge_window: int) -> int:
    """``claimableAt``: the epoch's end plus the challenge window."""
    return genesis + (epoch + 1) * EPOCH_LENGTH + challenge_window


def ended_before(genesis: int, epoch: int, timestamp: int) -> bool:
    """``_before``: the epoch ended by ``timestamp`` (a station registered then earns nothing)."""
    return genesis + (epoch + 1) * EPOCH_LENGTH <= timestamp


def forfeits(now: int, genesis: int, epoch: int, challenge_window: int, claimed: bool,
             forfeited: bool) -> bool:
    """Whether ``forfeit`` at time ``now`` takes the station's ``epoch`` (returns true)."""
    return not claimed and not forfeited and now < claimable_at(genesis, epoch, challenge_window)


def escrow_epochs(challenge_window: int) -> int:
    """Epoch ``e``'s rewards are claimable at the end of epoch ``e + K``, ``K`` this (>= 1)."""
    return -(-challenge_window // EPOCH_LENGTH)


def forfeit_epochs(challenge_window: int, delay: int) -> int:
    """A finding executed ``delay`` seconds after the end of epoch ``e`` forfeits epochs
    ``e - F + 1 .. e`` of a station that claims each as soon as it can: ``F`` this (0 when the
    delay reaches the window)."""
    room = challenge_window - delay
    return -(-room // EPOCH_LENGTH) if room > 0 else 0
