"""The fee bound on rewards, in model units, and what it leaves for self-charging.

The contract (``RewardsEngine._share``) pays a station, per epoch, the smaller of its share of the
emission by weight and ``fee_multiple_bps`` of the fees its sessions left with the treasury,
converted to WATT at ``wattPrice = max(watt_price_floor, feed price)``; what it withholds is never
minted. In the model the feed is the pool price, prices are credit units (of credit id 1) per
WATT, the treasury's fees are credit units and rewards are uWATT.

Two treasury shares: a wash trader refers its own sessions to an address it controls (the
contract refuses only the station's operator as a referrer), so self-charging leaves
``tau = 1 - operator - referrer`` with the treasury, while honest sessions leave
``tau_h = tau + referrer * (1 - referred share)`` (the referrer share of a session nobody referred
is the treasury's: ``model.demand.referred_share_bps``).

Self-charging (wash trading) in region *g* costs ``c_g + T_min * tau`` per kWh (electricity and
the treasury's share; the operator and referrer shares come back) and earns by weight
``a = rho * m_g`` WATT per kWh, but only while the station's fee bound has room. Its own sessions
add ``fee_multiple * tau * T_min / wattPrice`` WATT of room per kWh, worth at most
``fee_multiple * tau * T_min`` (the price cancels, or less below the floor): no more than the
treasury share it costs, so with any electricity cost self-charged energy never pays for itself
(with the floor alone it would above ``floor * cost / (fee_multiple * tau * T_min)``; the model
values rewards at the pool price, a feed). It can pay only by filling the room its
*honest* traffic leaves, ``(fee_multiple * tau_h * T_g / wattPrice - a)`` WATT per honest kWh, and
only if ``a * price > c_g + T_min * tau``. Both together need
``fee_multiple * tau_h * T_g > c_g + T_min * tau`` (a structural condition on the region) and
``a * max(floor, price) < fee_multiple * tau_h * T_g``: the price window is
``cost / a < price`` and ``max(floor, price) < fee_multiple * tau_h * T_g / a``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from wattnet.econ.rewards import fee_bound
from wattnet.econ.rewards import watt_price as rules_price
from wattnet.params import BPS
from wattnet.sim.model.state import F64, I64, UWATT, Inputs


def fee_bounded_reward(
    by_weight: ArrayLike, treasury_fee: ArrayLike, fee_multiple_bps: int, watt_price: ArrayLike
) -> I64:
    """``RewardsEngine._share`` in model units (:func:`wattnet.econ.rewards.fee_bound`):
    ``min(by_weight, treasury_fee * fee_multiple_bps * (UWATT // 10000) // watt_price)``.

    ``by_weight``: uWATT the station's weight share gives (already floored);
    ``treasury_fee``: credit units its sessions left with the treasury in the epoch;
    ``watt_price``: credit units per WATT, already ``max(floor, market)``, broadcastable.
    One floor of the whole quotient, like the contract (its 18-decimal USD units cancel for a
    credit of 2..18 decimals), exact while ``treasury_fee * fee_multiple_bps * 100 < 2**53``: a
    station-epoch treasury fee under ~9,000 USDC at the largest multiple (a 150 kW station
    retains ~1,100 at most); beyond, off by float rounding only. The price is the model's float
    pool price, taken as exact.
    """
    fees = np.asarray(treasury_fee, dtype=np.int64)
    by_fees = fee_bound(fees, fee_multiple_bps, np.asarray(watt_price, dtype=np.float64), UWATT)
    # the minimum is <= by_weight (< 2**53 uWATT), so it converts to int64 exactly
    out: I64 = np.minimum(np.asarray(by_weight, dtype=np.float64), by_fees).astype(np.int64)
    return out


def watt_price(market: ArrayLike, floor: float) -> F64:
    """``RewardsEngine.wattPrice()``: the feed's price (the pool), never below the floor."""
    out: F64 = rules_price(floor, np.asarray(market, dtype=np.float64))
    return out


@dataclass(frozen=True, slots=True)
class FeeBound:
    """The bound's parameters and, per region, what a kWh costs and may earn (credit units)."""

    fee_multiple_bps: int
    floor: float  # rewards.watt_price_floor, credit units per WATT
    # fee multiple x the treasury's share of honest traffic (all of the referrer share of the
    # sessions nobody referred): the most an honest kWh's reward is worth, per unit of tariff
    share: float
    # the same for self-charging, which a wash trader refers to an address of its own (any
    # address but the station operator's counts), so the treasury keeps only its own share
    wash_share: float
    min_tariff: int  # credit units per kWh; self-charging uses it
    wash_cost: F64  # (G,) lost per self-charged kWh: electricity + treasury share at T_min
    honest_cap: F64  # (G,) the most an honest kWh's reward may be worth: share x tariff

    @classmethod
    def of(cls, inp: Inputs, tariff: F64, elec: F64) -> FeeBound:
        # the fee record is the treasury's own share, referrer paid or not (_splitPayment)
        own_tr = inp.tr_bps - inp.ref_bps
        share = inp.fee_multiple_bps * own_tr / BPS**2
        wash_tr = own_tr
        return cls(
            fee_multiple_bps=inp.fee_multiple_bps,
            floor=inp.price_floor,
            share=share,
            wash_share=inp.fee_multiple_bps * wash_tr / BPS**2,
            min_tariff=inp.min_tariff,
            wash_cost=elec + inp.min_tariff * wash_tr / BPS,
            honest_cap=share * tariff,
        )

    def price(self, market: ArrayLike) -> F64:
        return watt_price(market, self.floor)

    def reward(self, by_weight: ArrayLike, treasury_fee: ArrayLike, wprice: ArrayLike) -> I64:
        return fee_bounded_reward(by_weight, treasury_fee, self.fee_multiple_bps, wprice)

    def pays(self, price: F64, rate: F64) -> NDArray[np.bool_]:
        """(runs, regions): does a self-charged kWh pay at ``price`` (runs,), given ``rate``
        (runs, regions), the WATT it earns by weight (rho x region multiplier)? It must be worth
        more than it costs and fit in the room honest traffic leaves under the bound."""
        wp = self.price(price)[:, None]
        out: NDArray[np.bool_] = (rate * price[:, None] > self.wash_cost) & (
            rate * wp < self.honest_cap
        )
        return out

    def breakeven(self, rate: F64, cost: F64 | None = None) -> F64:
        """(runs,): the lowest WATT price at which self-charging pays in some region, inf if at
        none (see the module docstring; above the window's top the bound binds again).
        ``cost``: per region, what an attacking kWh costs (default: self-charging's)."""
        cost = self.wash_cost if cost is None else cost
        lo = np.divide(cost, rate, out=np.full(rate.shape, np.inf), where=rate > 0)
        room = (cost < self.honest_cap) & (rate * self.floor < self.honest_cap)
        window = (rate > 0) & room
        out: F64 = np.where(window, lo, np.inf).min(axis=1)
        return out

    def wash_wh(
        self, rate: F64, honest_wh: I64, tariff: ArrayLike, room_wh: I64, wprice: F64
    ) -> I64:
        """Self-charged Wh a wash trader adds: those that still earn the weight rate ``rate``,
        i.e. fill the room its honest traffic (``honest_wh`` at ``tariff``) leaves under the
        bound, at most ``room_wh`` (the weight cap). Arrays are per fraudulent station."""
        honest_rate = self.share * np.asarray(tariff, dtype=np.float64) / wprice  # WATT/kWh
        wash_rate = self.wash_share * self.min_tariff / wprice  # room a self-charged kWh adds
        slack = (honest_rate - rate) * honest_wh / 1000  # WATT of room honest traffic leaves
        gain = rate - wash_rate  # room a self-charged kWh uses up
        kwh = np.divide(slack, gain, out=np.zeros_like(slack), where=(slack > 0) & (gain > 0))
        out: I64 = np.minimum(np.floor(kwh * 1000), np.maximum(room_wh, 0)).astype(np.int64)
        return out
