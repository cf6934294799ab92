"""What participants do around the charging: the oracle's role on a deployment we did not make,
and after the sessions: drivers who planned to redeem do, the last epoch closes, operators claim
their WATT and some withdraw their payouts."""

from __future__ import annotations

import logging

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain import roles
from wattnet.errors import ChainError
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.plan import EPOCH_S, Plan
from wattnet.sim.network.reconcile import Actions

log = logging.getLogger(__name__)
DEV_ACCOUNTS = 10  # anvil's unlocked accounts (the deployer of a local deployment is one)


def holder(view: ChainView, contract: str, role: bytes) -> str:
    """An account holding `role` on `contract` that anvil can send from (the timelock of a
    governed deployment, or a dev account), funded and impersonated."""
    view.rpc.impersonate_all()
    candidates: list[str] = [str(to_checksum_address(str(a)))
                             for a in view.rpc.call("eth_accounts")][:DEV_ACCOUNTS]
    for name in ("WattTimelock", "Timelock"):
        if name in view.deployment.contracts:
            candidates.insert(0, view.deployment.contracts[name])
    for who in candidates:
        if view.one(contract, "hasRole", role, who):
            view.rpc.fund([who])
            return who
    raise ChainError(f"cannot find a holder of {contract}'s role 0x{role.hex()[:8]}.. to act "
                     "for the simulator; give a deployment whose admin is the timelock or a dev "
                     "account")


def ensure_oracle_role(view: ChainView, oracle: str) -> None:
    """Grant ORACLE_ROLE to the simulator's oracle unless it has it, as whoever holds the admin
    role (on a snapshot: the timelock or the deployer; anvil impersonates either)."""
    credits = "EnergyCredits"
    if view.one(credits, "hasRole", roles.ORACLE_ROLE, oracle):
        return
    admin = holder(view, credits, roles.DEFAULT_ADMIN_ROLE)
    view.rpc.send([view.tx(admin, credits, "grantRole", roles.ORACLE_ROLE, oracle)],
                  "granting the simulator's oracle ORACLE_ROLE")


def admit_meter_issuer(view: ChainView, issuer_x: bytes, issuer_y: bytes) -> None:
    """Governance admits the simulated meter maker (as a DAO vote would), unless admitted."""
    registry = "StationRegistry"
    if view.one(registry, "meterIssuers", keccak(issuer_x + issuer_y)):
        return
    gov = holder(view, registry, roles.PARAMS_ROLE)
    view.rpc.send([view.tx(gov, registry, "setMeterIssuer", issuer_x, issuer_y, True)],
                  "admitting the simulated meter maker")


def attest_locations(view: ChainView, station_ids: list[bytes]) -> None:
    """The slashing authority attests the simulated stations' locations (they are honest)."""
    registry = "StationRegistry"
    who = holder(view, registry, roles.ATTESTER_ROLE)
    txs = [view.tx(who, registry, "attestLocation", sid, True) for sid in station_ids]
    for lo in range(0, len(txs), 500):
        view.rpc.send(txs[lo:lo + 500], "attesting station locations")


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
    # The last epoch closes and its rewards leave escrow (the challenge window).
    window = int(view.one("RewardsEngine", "challengeWindow"))
    close = genesis + (max(epochs, default=0) + 1) * EPOCH_S + window + 1
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
