"""``rewards.phases`` by vote: the emission schedule, ``RewardsEngine.setSchedule(fromEpoch,
Phase[])``.

In a change set, ``rewards.phases`` is the whole schedule from genesis in the params file's
format (``{name, epochs, emission_per_epoch, decay_bps}``, phase after phase). On chain,
``setSchedule`` keeps every phase before ``fromEpoch`` (cutting one that straddles it) and
appends the new phases, which must start exactly there; ``fromEpoch`` must be a future epoch when
the call executes. So:

- ``from_epoch`` is planned beyond the earliest execution (now + voting delay + voting period +
  late-quorum extension + timelock delay) with one whole epoch of slack: the proposal can be
  executed any time before ``from_epoch`` begins (``execute`` refuses after, and the change
  must then be proposed again);
- the epochs before ``from_epoch`` are history or pass before the change can apply: the new
  schedule must match the chain's there (a phase straddling the cut keeps its start, decay and
  first emission);
- the call carries the new schedule from ``from_epoch`` on, the straddling phase restarted at
  ``from_epoch`` with the emission the chain computes for that epoch (its later epochs then
  differ from the uncut phase's by fixed-point rounding only: wei, not WATT);
- the contract's cap check (its upper bound per phase, summed, <= ``maxEmission``) is checked here
  first, so a passed vote cannot fail at execution on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from eth_abi.abi import decode

# The rules are wattnet.econ's; re-exported for the planner's callers.
from wattnet.econ.emission import AbsPhase as AbsPhase
from wattnet.econ.emission import emission_at as emission_at
from wattnet.econ.emission import phase_bound as phase_bound
from wattnet.econ.emission import rpow as rpow
from wattnet.econ.emission import schedule_error, scheduled_total
from wattnet.errors import ConfigError
from wattnet.params import EPOCH_LENGTH, WEI_PER_WATT, to_wei

KEY = "rewards.phases"
SETTER = "setSchedule(uint256,(uint32,uint32,uint16,uint128)[])"
PHASES_OUT = "(uint32,uint32,uint16,uint128)[]"

_EXACT = Context(prec=80)  # wei amounts up to 10**30: beyond the default precision
_WEI_DIGITS = 18


def _field(phase: Any, name: str) -> Any:
    return phase[name] if isinstance(phase, dict) else getattr(phase, name)


def to_abs(phases: Sequence[Any]) -> list[AbsPhase]:
    """Params-format phases (dicts or wattnet.params.Phase) as absolute chain phases."""
    out, start = [], 0
    for p in phases:
        def get(k: str, p: Any = p) -> Any:
            return _field(p, k)

        epochs = int(get("epochs"))
        out.append((start, start + epochs, int(get("decay_bps")),
                    to_wei(Decimal(str(get("emission_per_epoch"))))))
        start += epochs
    return out


def from_abs(phases: Sequence[AbsPhase], named: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Chain phases in the params file's format. Each is named after the phase of ``named``
    (params-format phases) its start epoch falls in; a phase restarted by an earlier
    ``setSchedule`` cut gets ``<name>-from-<epoch>``; otherwise ``phase-<i>``."""
    spans = [(s, e, str(_field(p, "name"))) for (s, e, _, _), p in zip(to_abs(named), named,
                                                                         strict=True)]
    out: list[dict[str, Any]] = []
    used: set[str] = set()
    for i, (start, end, decay, emission) in enumerate(phases):
        name = next((n for s, e, n in spans if s <= start < e), f"phase-{i}")
        if name in used:
            name = f"{name}-from-{start}"
        used.add(name)
        watt = Decimal(emission).scaleb(-_WEI_DIGITS, _EXACT)
        whole = watt == watt.to_integral_value()
        amount: int | str = int(watt) if whole else str(watt.normalize(_EXACT))
        out.append({"name": name, "epochs": end - start, "emission_per_epoch": amount,
                    "decay_bps": decay})
    return out


def decode_phases(data: bytes) -> list[AbsPhase]:
    (raw,) = decode([PHASES_OUT], data)
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in raw]


def cut(phases: Sequence[AbsPhase], at: int) -> list[AbsPhase]:
    """The phases before epoch ``at`` (one straddling it ends there), as setSchedule keeps."""
    kept = [p for p in phases if p[0] < at]
    if kept and kept[-1][1] > at:
        s, _, d, e = kept[-1]
        kept[-1] = (s, at, d, e)
    return kept


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    from_epoch: int
    next: list[AbsPhase]
    execute_by: int  # last second of epoch from_epoch - 1
    total_bound: int


def plan_schedule(new: Sequence[Any], chain: Sequence[AbsPhase], from_epoch: int,
                  genesis: int, max_emission: int, source: str) -> SchedulePlan:
    """The setSchedule argument that turns ``chain`` into ``new`` from ``from_epoch`` on."""
    wanted = to_abs(new)
    if cut(wanted, from_epoch) != cut(chain, from_epoch):
        raise ConfigError(
            f"{source}: {KEY} changes epochs before {from_epoch}, which are past or pass before "
            "the proposal can execute; keep the schedule as on chain up to there (see "
            "`wattnet params diff --json`) and change only later epochs"
        )
    nxt: list[AbsPhase] = []
    for phase in wanted:
        start, end, decay, _ = phase
        if end <= from_epoch:
            continue
        if start < from_epoch:
            phase = (from_epoch, end, decay, emission_at(phase, from_epoch))
        nxt.append(phase)
    kept = cut(chain, from_epoch)
    problem = schedule_error(kept, nxt, from_epoch, None)
    if problem:
        raise ConfigError(f"{source}: {KEY} on chain after the change: {problem}")
    total = scheduled_total(kept + nxt)
    if total > max_emission:
        raise ConfigError(
            f"{source}: {KEY} would schedule up to {total / WEI_PER_WATT:,.0f} WATT (the "
            f"contract's bound), above RewardsEngine.maxEmission {max_emission / WEI_PER_WATT:,.0f}"
            " WATT"
        )
    return SchedulePlan(from_epoch, nxt, genesis + from_epoch * EPOCH_LENGTH - 1, total)


def show(value: Any) -> str:
    """A governed value on one line: the emission schedule by phase, the committee's members
    by address, anything else as it prints."""
    if isinstance(value, list):
        return ", ".join(value) if all(isinstance(v, str) for v in value) else describe(value)
    return str(value)


def describe(phases: Sequence[Any]) -> str:
    """One line: ``bootstrap 104 x 1500000 -50bps; growth ...``."""
    parts = []
    for p in phases:
        def get(k: str, p: Any = p) -> Any:
            return _field(p, k)

        parts.append(f"{get('name')} {get('epochs')} x {get('emission_per_epoch')} "
                     f"-{get('decay_bps')}bps")
    return "; ".join(parts)
