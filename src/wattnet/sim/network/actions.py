"""What participants do around the charging: the oracle's role on a deployment we did not make,
and after the sessions: drivers who planned to redeem do, the last epoch closes, operators claim
their WATT and some withdraw their payouts."""

from __future__ import annotations

import logging

from eth_utils.address import to_checksum_address

from wattnet.chain import roles
from wattnet.errors import ChainError
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.plan import EPOCH_S, Plan
from wattnet.sim.network.reconcile import Actions

log = logging.getLogger(__name__)
DEV_ACCOUNTS = 10  # anvil's unlocked accounts (the deployer of a local deployment is one)


def ensure_oracle_role(view: ChainView, oracle: str) -> None:
    """Grant ORACLE_ROLE to the simulator's oracle unless it has it, as whoever holds the admin
    role (on a snapshot: the timelock or the deployer; anvil impersonates either)."""
    credits = "EnergyCredits"
    if view.one(credits, "hasRole", roles.ORACLE_ROLE, oracle):
        return
    view.rpc.impersonate_all()
    candidates: list[str] = [str(to_checksum_address(str(a)))
                  for a in view.rpc.call("eth_accounts")][:DEV_ACCOUNTS]
    for name in ("WattTimelock", "Timelock"):
        if name in view.deployment.contracts:
            candidates.insert(0, view.deployment.contracts[name])
    for admin in candidates:
        if view.one(credits, "hasRole", roles.DEFAULT_ADMIN_ROLE, admin):
            view.rpc.fund([admin])
            view.rpc.send([view.tx(admin, credits, "grantRole", roles.ORACLE_ROLE, oracle)],
                          "granting the simulator's oracle ORACLE_ROLE")
            return
    raise ChainError("cannot find the admin of EnergyCredits to grant the simulator's oracle "
                     "ORACLE_ROLE; give a deployment whose admin is the timelock or a dev account")


def after_sessions(view: ChainView, plan: Plan, genesis: int, epochs: list[int]
                   ) -> tuple[Actions, dict[int, int]]:
    """Redeem, close the epochs, claim, withdraw. Returns the actions taken and each epoch's
    emission (the schedule as the chain computes it)."""
    rpc, cid = view.rpc, plan.credit_id
    spent = [0] * len(plan.drivers)
    for s in plan.sessions:
        spent[s.driver] += s.cost
    redeemers = [d for d in plan.drivers if d.redeems and d.buy > spent[d.index]]
    balances = view.read([("EnergyCredits", "balanceOf", (d.address, cid)) for d in redeemers])
    redeemed = {d.index: min(int(b), d.buy - spent[d.index])
                for d, b in zip(redeemers, balances, strict=True)}
    redeemed = {k: v for k, v in redeemed.items() if v > 0}
    rpc.send([view.tx(plan.drivers[k].address, "EnergyCredits", "requestRedemption", cid, v)
              for k, v in redeemed.items()], "drivers requesting redemption")
    delay = int(view.one("EnergyCredits", "timing")[0])
    close = genesis + (max(epochs, default=0) + 1) * EPOCH_S + 1
    rpc.warp_to(max(rpc.head_timestamp() + delay + 1, close))
    rpc.send([view.tx(plan.drivers[k].address, "EnergyCredits", "completeRedemption", cid)
              for k in redeemed], "drivers completing redemption")
    emission = {e: int(v) for e, v in zip(epochs, view.read(
        [("RewardsEngine", "emissionOf", (e,)) for e in epochs]), strict=True)}
    stations: dict[int, list[bytes]] = {}
    for c in plan.chargers:
        stations.setdefault(c.operator, []).append(c.station_id)
    claims = []
    for op, ids in stations.items():
        owed = view.read([("RewardsEngine", "claimable", (sid, e)) for sid in ids
                          for e in epochs])
        if any(int(x) for x in owed):
            claims.append(view.tx(plan.operators[op], "RewardsEngine", "claim", epochs, ids))
    rpc.send(claims, "operators claiming WATT")
    withdrawn = frozenset(k for k in range(len(plan.operators)) if k % 2 == 0)
    owed_now = view.read([("EnergyCredits", "owed", (plan.operators[k], cid))
                          for k in sorted(withdrawn)])
    withdrawn = frozenset(k for k, o in zip(sorted(withdrawn), owed_now, strict=True) if int(o))
    rpc.send([view.tx(plan.operators[k], "EnergyCredits", "withdrawPayout", cid,
                      plan.operators[k]) for k in sorted(withdrawn)],
             "operators withdrawing payouts")
    return Actions(redeemed, withdrawn), emission
