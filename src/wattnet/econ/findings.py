"""Stake and penalties (``OperatorStaking._required``, ``slash``, ``_punish``, ``_slash``).

Stake is pooled per operator: it must cover ``stations * min_stake_per_station + kw *
stake_per_kw`` over its active stations (kW rounded up per station, certified power while a
certified meter is bound). A penalty takes from the operator's pool, active stake first, never
more than is there. A fraud proof (equivocation, over power, driver overlap, readings) takes the
governed ``equivocation_slash`` and pays ``equivocation_bounty_bps`` of it to a reporter who
committed the evidence first (not the operator itself, not an oracle key); the slashing authority
(``SLASHER_ROLE``: the timelock) takes the amount it decided and pays no bounty. The rest goes to
the treasury or is burned (``slash_destination``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattnet.econ.units import BPS, lesser


def required_stake(stations: Any, kw: Any, min_stake_per_station: int, stake_per_kw: int) -> Any:
    """``_required``: what an operator's active stake must cover (wei)."""
    return stations * min_stake_per_station + kw * stake_per_kw


@dataclass(frozen=True, slots=True)
class Penalty:
    """What a penalty takes from the operator (``amount``) and pays the reporter (``bounty``);
    ``amount - bounty`` goes to the slash destination."""

    amount: Any
    bounty: Any

    @property
    def to_destination(self) -> Any:
        return self.amount - self.bounty


def proof_penalty(available: Any, equivocation_slash: int, bounty_bps: int,
                  bounty_paid: Any) -> Penalty:
    """``_punish``: a fraud proof against an operator with ``available`` (active + unbonding)."""
    amount = lesser(available, equivocation_slash)
    return Penalty(amount, amount * bounty_bps // BPS * bounty_paid)


def authority_slash(available: Any, decided: Any) -> Penalty:
    """``slash``: the slashing authority's decided amount, up to what is there; no bounty."""
    return Penalty(lesser(available, decided), 0)
