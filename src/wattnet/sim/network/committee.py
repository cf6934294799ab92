"""The oracle committee for a network simulation: ``n`` staked nodes, threshold ``k``, and the
hand-over from the single oracle key to the committee, as governance would do it on a live
network (docs/oracle-committee.md): each node's operator stakes WATT and registers its key with
the key's own signature, the timelock admits the nodes and sets the threshold (the committee
publishes each change to the ledger through its ``COMMITTEE_ROLE``, granted at deployment) and
takes ``ORACLE_ROLE`` from every holder: from then on only ``settleSigned`` settles. anvil
impersonates the timelock and the treasury (which pays the nodes' stakes, as an operator's own
WATT would).
"""

from __future__ import annotations

from collections.abc import Sequence

from wattnet.chain import roles
from wattnet.chain.committee import committee_domain, node_digest
from wattnet.chain.eip712 import address_of_private_key, sign_digest
from wattnet.errors import ChainError
from wattnet.sim.network.actions import holder
from wattnet.sim.network.chainview import ChainView

COMMITTEE = "OracleCommittee"


def form_committee(view: ChainView, keys: Sequence[bytes], threshold: int, treasury: str) -> str:
    """Register, stake and admit one node per key, set ``threshold``, take ORACLE_ROLE from
    every holder; returns the committee's address. Idempotent for nodes already admitted."""
    if COMMITTEE not in view.deployment.contracts:
        raise ChainError("this deployment has no OracleCommittee (a params file without a "
                         "`committee` section, or an older snapshot); run with --oracle-nodes 1")
    if not 1 <= threshold <= len(keys):
        raise ChainError(f"committee threshold {threshold} needs 1..{len(keys)} nodes")
    view.add_contract(COMMITTEE)
    committee = view.address(COMMITTEE)
    domain = committee_domain(view.deployment.chain_id, committee)
    stake = int(view.one(COMMITTEE, "minStake"))
    nodes = [address_of_private_key(k) for k in keys]
    members = {str(m).lower() for m in view.one(COMMITTEE, "members")}
    new = [(k, n) for k, n in zip(keys, nodes, strict=True) if n.lower() not in members]
    admin = holder(view, "EnergyCredits", roles.DEFAULT_ADMIN_ROLE)
    if not view.one("EnergyCredits", "hasRole", roles.COMMITTEE_ROLE, committee):
        # A deployment from before the committee published to the ledger: grant it first (every
        # admission publishes).
        view.rpc.send([view.tx(admin, "EnergyCredits", "grantRole", roles.COMMITTEE_ROLE,
                               committee)], "letting the committee publish its members")
    if new:
        view.rpc.impersonate_all()
        view.rpc.fund([n for _, n in new])
        view.rpc.send([view.tx(treasury, "WattToken", "transfer", n, stake) for _, n in new],
                      "paying the oracle nodes' stakes")
        view.rpc.send([view.tx(n, "WattToken", "approve", committee, stake) for _, n in new],
                      "approving the oracle nodes' stakes")
        view.rpc.send([view.tx(n, COMMITTEE, "register", n, stake,
                               sign_digest(k, node_digest(domain, n))) for k, n in new],
                      "registering the oracle nodes")
        gov = holder(view, COMMITTEE, roles.GOVERNOR_ROLE)
        view.rpc.send([view.tx(gov, COMMITTEE, "admit", n) for _, n in new],
                      "admitting the oracle nodes")
    gov = holder(view, COMMITTEE, roles.GOVERNOR_ROLE)
    view.rpc.send([view.tx(gov, COMMITTEE, "setThreshold", threshold)],
                  "setting the committee's threshold")
    holders = oracle_role_holders(view)
    if holders:
        view.rpc.send([view.tx(admin, "EnergyCredits", "revokeRole", roles.ORACLE_ROLE, h)
                       for h in holders], "taking ORACLE_ROLE from the single oracle key")
    return committee


def oracle_role_holders(view: ChainView) -> list[str]:
    """Every account that holds ORACLE_ROLE now (from the grants on record)."""
    granted = {str(e["args"]["account"]) for e in view.logs("EnergyCredits", "RoleGranted", 0)
               if bytes(e["args"]["role"]) == roles.ORACLE_ROLE}
    return sorted(a for a in granted if view.one("EnergyCredits", "hasRole", roles.ORACLE_ROLE, a))


def oracle_used(view: ChainView, address: str) -> bool:
    """Whether an earlier run on this chain used ``address`` as its oracle: it holds
    ORACLE_ROLE, or it is (or was) an oracle committee node."""
    if view.one("EnergyCredits", "hasRole", roles.ORACLE_ROLE, address):
        return True
    if COMMITTEE not in view.deployment.contracts:
        return False
    view.add_contract(COMMITTEE)
    return int(str(view.one(COMMITTEE, "nodeOf", address)[0]), 16) != 0
