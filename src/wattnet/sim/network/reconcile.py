"""Reconciliation: what the chain must hold after the run, computed from the plan and the
protocol's rules alone, against what it holds, to the smallest unit.

Both sides are a ``Ledger``: item -> party -> integer. ``expect`` builds the expected one from the
plan, the post-run actions and the state before the run; ``observe`` reads the same entries from
the chain; ``compare`` lists every difference (an empty list is a clean run).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from wattnet.econ.rewards import epoch_of as epoch_at
from wattnet.econ.rewards import fee_bound, reward
from wattnet.econ.settlement import retained_fees_usd, split_payment
from wattnet.econ.weight import accrue, epoch_cap_wh
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.plan import Plan

Ledger = dict[str, dict[str, int]]
TOTALS = ("totalSupply", "totalPendingRedemptions", "totalOwed")


@dataclass(frozen=True, slots=True)
class Difference:
    item: str
    party: str
    expected: int | None
    actual: int | None

    @property
    def delta(self) -> int | None:
        if self.expected is None or self.actual is None:
            return None
        return self.actual - self.expected


@dataclass(frozen=True, slots=True)
class Actions:
    """What participants did after the sessions: redemptions (driver index -> credits) and
    payout withdrawals (operator indexes)."""

    redeemed: dict[int, int] = field(default_factory=dict)
    withdrawn: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class FeeBound:
    """RewardsEngine's bound on a station's epoch reward: at most `multiple_bps` of the fees it
    retained (USD wei: credit units x 1e16 / cap unit), converted at `price` (USD wei/WATT);
    the rules are wattnet.econ's."""

    multiple_bps: int
    price: int
    cap_unit: int

    def fees(self, retained_units: int) -> int:
        return int(retained_fees_usd(retained_units, self.cap_unit))

    def watt(self, fees: int) -> int:
        return int(fee_bound(fees, self.multiple_bps, self.price))


@dataclass(frozen=True, slots=True)
class Before:
    """Chain state before the simulation touched it (a snapshot may hold earlier activity)."""

    totals: dict[str, int]
    escrow: int
    treasury_owed: int
    epoch_weight: dict[int, int]


def epoch_of(plan: Plan, genesis: int, t: int) -> int:
    del plan
    return int(epoch_at(genesis, t))


def expect(plan: Plan, genesis: int, operator_bps: int, referrer_bps: int, actions: Actions,
           before: Before, emission: dict[int, int], bound: FeeBound,
           cap_bps: int = 10_000) -> Ledger:
    """The ledger the protocol's rules (:mod:`wattnet.econ`) give for the plan: cost = energy x
    tariff // 1000 burned from the driver; the operator gets cost x bps // 10000, nobody refers
    (gateways set no referrer), the treasury the rest; weight floor(energy x region bps / 10000)
    per session, up to the station's epoch cap (rated power x epoch x ``cap_bps``), in the epoch
    it settled (= ended) in (every station has a certified meter and an attested location);
    ``emission`` per epoch as the schedule gives it (checked against the chain's
    ``emissionOf``); rewards floor(emission x weight / epoch weight), at most the fee bound of
    the treasury's share of the station's sessions in that epoch. (``cap_bps`` 10000: a station
    can count all the energy its rated power allows.)"""
    led: Ledger = defaultdict(dict)
    spent = [0] * len(plan.drivers)
    owed = [0] * len(plan.operators)
    treasury = 0
    weight: dict[tuple[int, int], int] = defaultdict(int)
    counted: dict[tuple[int, int], int] = defaultdict(int)  # energy towards the epoch cap
    retained: dict[tuple[int, int], int] = defaultdict(int)
    count = [0] * len(plan.chargers)
    for s in plan.sessions:
        c = plan.chargers[s.charger]
        led["settled once"][_sk(c.cp_id, s.session_id)] = 1
        count[s.charger] = max(count[s.charger], s.session_id)
        spent[s.driver] += s.cost
        pay = split_payment(s.cost, operator_bps, referrer_bps, False)  # no referrer named
        owed[c.operator] += pay.operator
        treasury += pay.treasury
        key = (epoch_of(plan, genesis, s.end), s.charger)
        retained[key] += pay.retained
        if s.cost:  # and a driver who is not the operator, and committed readings: always here
            counted[key], added = accrue(counted[key], s.energy_wh,
                                         epoch_cap_wh(c.rated_power_w, cap_bps), c.multiplier_bps)
            weight[key] += added
    for c in plan.chargers:  # and nothing beyond the planned sessions
        led["settled once"][_sk(c.cp_id, count[c.index] + 1)] = 0
    total_cost = sum(spent)
    led["settlement events"] = {"sessions settled": len(plan.sessions), "receipts rejected": 0}
    redeemed = 0
    for d in plan.drivers:
        r = actions.redeemed.get(d.index, 0)
        redeemed += r
        led["driver credits"][d.address] = d.buy - spent[d.index] - r
        led["driver pending redemption"][d.address] = 0
        led["driver stablecoin"][d.address] = r
    epoch_total: dict[int, int] = defaultdict(int)
    for (e, _), w in weight.items():
        epoch_total[e] += w
    rewards = [0] * len(plan.operators)
    for e in epoch_total:
        led["epoch emission"][f"e{e}"] = emission.get(e, 0)
    for (e, ci), w in weight.items():
        c = plan.chargers[ci]
        led["station weight"][f"e{e}:{c.cp_id}"] = w
        total = before.epoch_weight.get(e, 0) + epoch_total[e]
        rewards[c.operator] += int(reward(emission.get(e, 0), w, total,
                                          bound.fees(retained[(e, ci)]), bound.multiple_bps,
                                          bound.price))
    withdrawn = 0
    for k, who in enumerate(plan.operators):
        out = owed[k] if k in actions.withdrawn else 0
        withdrawn += out
        led["operator owed"][who] = owed[k] - out
        led["operator stablecoin"][who] = out
        led["operator WATT (rewards)"][who] = rewards[k]
    for e, w in epoch_total.items():
        led["epoch weight"][f"e{e}"] = before.epoch_weight.get(e, 0) + w
    bought = sum(d.buy for d in plan.drivers)
    tot = before.totals
    led["totals"] = {
        "credits outstanding": tot["totalSupply"] + bought - total_cost - redeemed,
        "pending redemptions": tot["totalPendingRedemptions"],
        "owed payouts": tot["totalOwed"] + total_cost - withdrawn,
        "stablecoin in escrow": before.escrow + bought - redeemed - withdrawn,
        "treasury owed": before.treasury_owed + treasury,
    }
    return dict(led)


def _sk(cp_id: str, session_id: int) -> str:
    return f"{cp_id}#{session_id}"


def read_before(view: ChainView, treasury: str, epochs: list[int]) -> Before:
    cid = 1
    vals = view.read([("EnergyCredits", t, (cid,)) for t in TOTALS]
                     + [("MockStablecoin", "balanceOf", (view.address("EnergyCredits"),)),
                        ("EnergyCredits", "owed", (treasury, cid))]
                     + [("EnergyCredits", "totalEpochWeight", (e,)) for e in epochs])
    return Before(dict(zip(TOTALS, (int(v) for v in vals[:3]), strict=True)), int(vals[3]),
                  int(vals[4]), {e: int(v) for e, v in zip(epochs, vals[5:], strict=True)})


def observe(view: ChainView, plan: Plan, expected: Ledger, treasury: str, senders: list[str],
            from_block: int) -> Ledger:
    """Read, for every entry of ``expected``, the chain's value (``senders``: who settles, the
    oracle key or the committee's nodes)."""
    mine = {s.lower() for s in senders}
    cid = plan.credit_id
    by_cp = {c.cp_id: c for c in plan.chargers}
    led: Ledger = defaultdict(dict)
    keys = list(expected.get("settled once", {}))
    for k, v in zip(keys, view.read([
            ("EnergyCredits", "isSettled", (by_cp[k.split("#")[0]].station_id,
                                            int(k.split("#")[1]))) for k in keys]), strict=True):
        led["settled once"][k] = int(bool(v))
    batches = [b for b in view.logs("EnergyCredits", "BatchSettled", from_block)
               if str(b["args"]["submitter"]).lower() in mine]
    rejected = view.logs("EnergyCredits", "ReceiptRejected", from_block)
    led["settlement events"] = {
        "sessions settled": sum(int(b["args"]["settled"]) for b in batches),
        "receipts rejected": sum(int(b["args"]["rejected"]) for b in batches) + len(rejected)}
    simple = {
        "driver credits": ("EnergyCredits", "balanceOf", True),
        "driver pending redemption": ("EnergyCredits", "redemptionOf", True),
        "driver stablecoin": ("MockStablecoin", "balanceOf", False),
        "operator owed": ("EnergyCredits", "owed", True),
        "operator stablecoin": ("MockStablecoin", "balanceOf", False),
        "operator WATT (rewards)": ("WattToken", "balanceOf", False),
    }
    for item, (contract, fn, with_id) in simple.items():
        who = list(expected.get(item, {}))
        calls = [(contract, fn, (w, cid) if with_id else (w,)) for w in who]
        for w, v in zip(who, view.read(calls), strict=True):
            led[item][w] = int(v[0]) if isinstance(v, tuple) else int(v)
    weights = list(expected.get("station weight", {}))
    for k, v in zip(weights, view.read([
            ("EnergyCredits", "stationEpoch", (int(k.split(":")[0][1:]),
                                               by_cp[k.split(":")[1]].station_id))
            for k in weights]), strict=True):
        led["station weight"][k] = int(v[1])  # (rewardedWh, weight, fees)
    epochs = list(expected.get("epoch weight", {}))
    for k, v in zip(epochs, view.read([("EnergyCredits", "totalEpochWeight", (int(k[1:]),))
                                       for k in epochs]), strict=True):
        led["epoch weight"][k] = int(v)
    epochs = list(expected.get("epoch emission", {}))
    for k, v in zip(epochs, view.read([("RewardsEngine", "emissionOf", (int(k[1:]),))
                                       for k in epochs]), strict=True):
        led["epoch emission"][k] = int(v)
    tot = view.read([("EnergyCredits", t, (cid,)) for t in TOTALS]
                    + [("MockStablecoin", "balanceOf", (view.address("EnergyCredits"),)),
                       ("EnergyCredits", "owed", (treasury, cid))])
    led["totals"] = dict(zip(("credits outstanding", "pending redemptions", "owed payouts",
                              "stablecoin in escrow", "treasury owed"),
                             (int(v) for v in tot), strict=True))
    return dict(led)


def compare(expected: Ledger, actual: Ledger) -> list[Difference]:
    out = []
    for item in sorted(set(expected) | set(actual)):
        e, a = expected.get(item, {}), actual.get(item, {})
        for party in sorted(set(e) | set(a)):
            if e.get(party) != a.get(party):
                out.append(Difference(item, party, e.get(party), a.get(party)))
    return out
