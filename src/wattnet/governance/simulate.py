"""``--simulate``: the economic model (``wattnet sim model``) with the current parameters and
with the proposed ones, same seeds, and the change in the key outcomes (medians over runs).

By default the model runs at the size the params file describes (``model.stations`` stations
over ``model.horizon_days`` days): drivers per region are fixed, so a smaller network is not a
lower resolution of the same economy but another economy (a payback of 112 days at 1,000
stations is 1,078 at the file's 10,000). ``--sim-stations`` / ``--sim-days`` choose another
size; the size used is printed with the results.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from wattnet.params import Params

KEY_METRICS = (
    "crossover_day",
    "treasury_depleted_day",
    "treasury_runway_end",
    "treasury_final",
    "breakeven_y1",
    "price_final",
    "gini_rewards",
    "top_operator_share",
    "fraud_reward_share",
    "stations_final",
    "fees_total",
)


@dataclass(frozen=True, slots=True)
class SimSettings:
    runs: int = 4
    days: int | None = None  # None: the params file's model.horizon_days
    stations: int | None = None  # None: the params file's model.stations
    seed: int = 0
    scenario: str = "baseline"

    def sized_for(self, params: Params) -> SimSettings:
        """These settings with the params file's size where none was chosen."""
        from wattnet.sim.model.config import parse_model

        model = parse_model(params)
        return replace(self, days=self.days or model.horizon_days,
                       stations=self.stations or model.stations)


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    key: str
    label: str
    unit: str
    current: float
    proposed: float

    @property
    def delta(self) -> float:
        if math.isinf(self.current) or math.isinf(self.proposed):
            return 0.0 if self.current == self.proposed else math.nan
        return self.proposed - self.current

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "delta": self.delta}


def fmt_outcome(value: float) -> str:
    """An outcome for a table: 4 significant digits, "never" for an infinite day count."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "never" if value > 0 else "-inf"
    return f"{value:,.4g}" if abs(value) < 1_000 else f"{value:,.0f}"


def compare(before: Params, after: Params, settings: SimSettings) -> list[OutcomeRow]:
    """Run the model on both parameter sets (same seed) and pair the key outcomes' medians,
    operator payback by region included."""
    from wattnet.sim.model.metrics import summarize
    from wattnet.sim.model.montecarlo import run_model

    settings = settings.sized_for(before)

    def run(params: Params) -> Any:
        return summarize(run_model(params, settings.scenario, runs=settings.runs,
                                   seed=settings.seed, days=settings.days,
                                   stations=settings.stations, workers=1))

    cur, new = run(before), run(after)
    rows: list[OutcomeRow] = []
    for region_cur, region_new in zip(cur.regions, new.regions, strict=True):
        rows.append(OutcomeRow(f"payback_{region_cur.region}",
                               f"operator payback, {region_cur.region} (median)", "day",
                               float(region_cur.payback_days_p50),
                               float(region_new.payback_days_p50)))
    for key in KEY_METRICS:
        try:
            m_cur, m_new = cur.metric(key), new.metric(key)
        except StopIteration:  # e.g. breakeven_y1 on a horizon under a year
            continue
        rows.append(OutcomeRow(key, m_cur.label, m_cur.unit, float(m_cur.p50), float(m_new.p50)))
    return rows
