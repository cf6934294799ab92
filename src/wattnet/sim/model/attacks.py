"""The attacking stations, and what each attack costs and earns per kWh under the contracts.

Attackers are few, so the model keeps them flattened (run, station) and does their work sparsely.
Each attack is only what the contracts let through (docs/proof-of-work.md, docs/economics.md
"Attack scenarios"):

- ``wash``: self-charging with real energy through a certified meter, paid by the attacker's own
  driver at ``T_min`` and referred to an alias (operator and referrer shares come back): costs
  electricity and the treasury's share per kWh.
- ``fake``: a certified meter whose key was extracted signs sessions that delivered nothing, paid
  the same way: costs the treasury's share only. No fraud proof covers it (the readings are
  validly signed); a finding by the slashing authority does.
- ``power``: an uncertified station declaring ``declared_power_kw`` claims sessions up to it (no
  certificate lowers the power settlement uses). It earns ``uncertified_reward_bps`` of the
  weight, and only with a readings commitment, which ``ReadingsProofs.proveBadReadings`` refutes
  (the key was never bound): a fraud proof with a bounty.
- ``infl``: an inflating meter (its drivers pay for the inflated energy), weight only if broken.
- ``spoof``: a station claiming the model's most boosted region; the boost applies only if the
  attester was fooled (``spoof_ok``); withdrawing the attestation is a finding.
- ``selfref``: the operator names itself (or an alias nobody chose) as referrer on every receipt;
  ``_settleOne`` pays that share to the treasury, which raises the station's fee bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wattnet.econ.weight import effective_multiplier, settlement_multiplier
from wattnet.params import BPS
from wattnet.sim.model.bound import FeeBound
from wattnet.sim.model.state import F64, I64, Inputs, Stations

B = NDArray[np.bool_]
VARIANTS = ("wash", "fake", "power")  # the attacks that buy weight with a cost per kWh


@dataclass(slots=True)
class Attackers:
    idx: I64  # flat index run * stations + station
    run: I64
    region: I64  # flat run * regions + region
    g: I64  # region
    wash: B
    infl: B
    fake: B
    power: B
    spoof_ok: B
    selfref: B
    self_dealing: B  # wash | fake | power: sessions paid by the attacker's own driver
    proven: B  # caught by a fraud proof (bounty), not a finding
    cap: I64
    detect: NDArray[np.int16]
    max_wh: I64
    stake: I64
    tariff: I64
    mult: I64  # the multiplier settlement uses
    fair_mult: I64  # the one it would have without the attack (spoofing)
    elec: F64  # electricity per self-dealt kWh
    cost_kwh: F64  # what a self-dealt kWh costs the attacker (credits)
    epochs: NDArray[np.int16]  # attacking epochs so far

    @classmethod
    def of(cls, inp: Inputs, st: Stations, tariff_s: I64, elec: F64) -> Attackers:
        n_s, n_g = inp.stations, len(inp.cfg.regions)
        flags = st.wash | st.inflated | st.fake | st.power | st.spoof | st.selfref
        idx = np.flatnonzero(flags.ravel())
        run, station = idx // n_s, idx % n_s
        g = st.region[station].astype(np.int64)

        def pick(a: NDArray[Any]) -> NDArray[Any]:
            return a.ravel()[idx]

        wash, infl, fake, power = pick(st.wash), pick(st.inflated), pick(st.fake), pick(st.power)
        spoof_ok = pick(st.spoof_ok)
        true_mult = inp.region_mult_bps[g]
        boosted = effective_multiplier(int(inp.region_mult_bps.max()), True)
        # settlementView: a certified meter keeps the multiplier, an uncertified one (an inflating
        # meter that is not a broken certified one; a declared-power abuser) is scaled
        uncert = (infl & ~pick(st.broken)) | power
        fair = settlement_multiplier(true_mult, ~uncert, inp.uncertified_bps)
        mult = np.where(spoof_ok, boosted, fair)
        self_dealing = wash | fake | power
        e_kwh = np.where(wash, elec[g], 0.0)
        wash_tr = inp.tr_bps - inp.ref_bps  # the alias gets the referrer share back
        return cls(
            idx=idx, run=run, region=run * n_g + g, g=g, wash=wash, infl=infl, fake=fake,
            power=power, spoof_ok=spoof_ok, selfref=pick(st.selfref), self_dealing=self_dealing,
            proven=power, cap=pick(st.cap_wh), detect=pick(st.detect_after),
            max_wh=pick(st.max_wh), stake=pick(st.stake_u), tariff=tariff_s[station],
            mult=mult.astype(np.int64), fair_mult=np.asarray(fair, dtype=np.int64), elec=e_kwh,
            cost_kwh=e_kwh + inp.min_tariff * wash_tr / BPS,
            epochs=np.zeros(idx.size, dtype=np.int16),
        )

    def pays(self, bound: FeeBound, price: F64, rr: F64) -> B:
        """Per attacker: does a self-dealt kWh pay at last epoch's rate ``rr`` (runs,): worth
        more than it costs at the pool price, and inside the room honest traffic leaves?"""
        rate = rr[self.run] * self.mult / BPS
        wp = bound.price(price)[self.run]
        out: B = (rate * price[self.run] > self.cost_kwh) & (rate * wp < bound.honest_cap[self.g])
        return out


def variant_costs(inp: Inputs, elec: F64) -> dict[str, tuple[F64, float]]:
    """Per variant: (cost of one attacking kWh per region, share of the region multiplier it
    earns)."""
    tau = inp.min_tariff * (inp.tr_bps - inp.ref_bps) / BPS
    return {
        "wash": (elec + tau, 1.0),
        "fake": (np.zeros_like(elec) + tau, 1.0),
        "power": (np.zeros_like(elec) + tau, inp.uncertified_bps / BPS),
    }


def breakevens(bound: FeeBound, costs: dict[str, tuple[F64, float]], rate: F64) -> dict[str, F64]:
    """Per variant, (runs,): the lowest WATT price at which one attacking kWh pays in some region
    at ``rate`` (runs, regions) WATT per kWh of weight; inf where it pays at no price."""
    return {k: bound.breakeven(rate * share, cost) for k, (cost, share) in costs.items()}
