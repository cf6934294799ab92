"""A scenario against the baseline: the metrics that moved, as deltas, and a sentence saying what
happened and why, built from the figures (nothing in it is written per scenario)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from wattnet.sim.model.metrics import Summary
from wattnet.sim.model.report_html import fmt
from wattnet.sim.model.scenarios import get_scenario

# always shown for a scenario, moved or not: what issue 12 asks of every scenario
REQUIRED = ("attack_pnl", "fraud_reward_share", "honest_payback_days")
# figures of the attack itself, explained in the first sentence rather than as "movers"
_ATTACK = ("attack_pnl", "attack_gain", "attack_cost", "attack_loss", "attackers", "cluster_pnl",
           "cluster_votes_final", "cluster_quorum_share", "capture_day",
           "top_regional_operator_share")


@dataclass(frozen=True, slots=True)
class Delta:
    key: str
    label: str
    unit: str
    base: float
    value: float

    @property
    def change(self) -> float:
        if math.isinf(self.base) or math.isinf(self.value):
            return 0.0 if self.base == self.value else math.inf
        return self.value - self.base

    @property
    def relative(self) -> float:
        """|change| / |base|: inf when the base is 0 or inf and the value is not."""
        if self.base == self.value or (math.isnan(self.base) and math.isnan(self.value)):
            return 0.0
        if math.isnan(self.base) or math.isnan(self.value):
            return math.inf
        if self.base == 0 or math.isinf(self.base) or math.isinf(self.value):
            return math.inf
        return abs(self.value - self.base) / abs(self.base)


def deltas(base: Summary, scen: Summary, tol: float = 1e-3) -> list[Delta]:
    """Metrics whose median (a single run's value) moved by more than ``tol`` (relative),
    largest first, then the required ones that did not move."""
    known = {b.key for b in base.metrics}
    rows = [Delta(m.key, m.label, m.unit, base.metric(m.key).p50, m.p50)
            for m in scen.metrics if m.key in known]
    moved = sorted((d for d in rows if d.relative > tol), key=lambda d: -min(d.relative, 1e12))
    still = [d for d in rows if d.relative <= tol and d.key in REQUIRED]
    return moved + still


def _pct(x: float) -> str:
    return f"{x * 100:.3g} %" if math.isfinite(x) else fmt(x)


def _days(x: float) -> str:
    return "never within the horizon" if math.isinf(x) else f"{x:,.0f} days"


def explain(base: Summary, scen: Summary, cur: str = "USDC") -> str:
    """What happened in ``scen`` against ``base`` and why, from their figures."""
    scenario = get_scenario(scen.scenario)
    v = {m.key: m.p50 for m in scen.metrics}
    b = {m.key: m.p50 for m in base.metrics}
    out: list[str] = []
    if scenario.attacker == "attack" and v["attackers"] > 0:
        pnl, gain, cost, loss = (v[k] for k in ("attack_pnl", "attack_gain", "attack_cost",
                                                "attack_loss"))
        verdict = "gained" if pnl > 0 else "lost"
        why = (
            "the attack earns nothing under the contracts' rules" if gain == 0 and pnl == 0
            else "nothing was ever found" if pnl > 0 and loss == 0
            else "its gain exceeded its cost and what findings took" if pnl > 0
            else "forfeits and slashes exceeded what it gained" if loss >= cost
            else "its cash cost exceeded what it gained"
        )
        out.append(
            f"{v['attackers']:,.0f} attacking stations {verdict} {fmt(abs(pnl))} {cur} "
            f"(gain {fmt(gain)}, cash cost {fmt(cost)}, forfeits and slashes {fmt(loss)}): "
            f"{why}; the fraudulent share of rewards was {_pct(v['fraud_reward_share'])} "
            f"against {_pct(b['fraud_reward_share'])} in the baseline."
        )
    elif scenario.attacker == "cluster":
        out.append(
            f"The cluster's cash less outlay was {fmt(v['cluster_pnl'])} {cur}; it took "
            f"{_pct(v['top_regional_operator_share'])} of its region's rewards "
            f"(baseline {_pct(b['top_regional_operator_share'])}) and its votes reached "
            f"{_pct(v['cluster_quorum_share'])} of the quorum"
            + (f", on day {v['capture_day']:,.0f}." if math.isfinite(v["capture_day"])
               else ", never the quorum itself.")
        )
    movers: list[Delta] = []
    for d in deltas(base, scen):
        if (d.key in _ATTACK or d.key in REQUIRED or not math.isfinite(d.base)
                or not math.isfinite(d.value)
                or any(math.isclose(d.relative, m.relative) for m in movers)):
            continue  # said above, not a number, or the same move as one already said
        movers.append(d)
    movers = movers[:3]
    if movers:
        said = "; ".join(
            f"{d.label} {'rose' if d.value > d.base else 'fell'} from {fmt(d.base)} to "
            f"{fmt(d.value)} {d.unit}" + (f" ({(d.value - d.base) / abs(d.base):+.0%})"
                                          if d.base else "")
            for d in movers
        )
        out.append(f"Largest moves: {said}.")
    elif scenario.name != "baseline":
        out.append("No metric moved against the baseline.")
    hb, hv = b["honest_payback_days"], v["honest_payback_days"]
    out.append(
        f"Honest operators' median payback: {_days(hv)}"
        + (" (unchanged)." if hb == hv else f" (baseline {_days(hb)}).")
    )
    return " ".join(out)
