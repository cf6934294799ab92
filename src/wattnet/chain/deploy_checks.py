"""Post-deploy checks of a governed deployment: every role holder (the deployer holds nothing),
every parameter against ``params/<network>.yaml``, every link between contracts.

``run_checks(gp, params) -> list[Check]``; ``checks_table(results)`` renders them for the CLI.
AccessControl cannot enumerate holders, so each role is checked for the accounts that matter:
the intended holder has it; the deployer, guardian and oracle have nothing beyond their own role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from wattnet.chain import roles
from wattnet.chain.deploy import geohash_bytes8
from wattnet.chain.deploy_plan import (
    COMMITTEE_GRANTS,
    COMMITTEE_ROLES,
    GOVERNED_ROLES,
    TIMELOCK_ROLES,
    ZERO_ADDRESS,
    contract_phases,
    role_id,
)
from wattnet.params import Params, SlashDestination, to_chain_units

if TYPE_CHECKING:
    from rich.table import Table

    from wattnet.chain.deploy_plan import GovernedProtocol


@dataclass(frozen=True, slots=True)
class Check:
    group: str  # roles | params | links | governance
    name: str
    expected: str
    actual: str
    ok: bool


def _norm(v: Any) -> Any:
    """Ape return values (structs, lists, addresses, bytes) as plain comparable Python."""
    if isinstance(v, str):
        return v.lower() if v.startswith("0x") else v
    if isinstance(v, bytes | bytearray):
        return "0x" + bytes(v).hex()
    if isinstance(v, bool | int):
        return int(v)
    if hasattr(v, "items") and callable(v.items):
        return tuple(_norm(x) for _, x in v.items())
    if isinstance(v, list | tuple) or hasattr(v, "__iter__"):
        return tuple(_norm(x) for x in v)
    return _norm(str(v))


class _Checks:
    def __init__(self) -> None:
        self.results: list[Check] = []

    def eq(self, group: str, name: str, expected: Any, read: Callable[[], Any]) -> None:
        try:
            actual = read()
        except Exception as exc:  # a view that reverts or is missing is a failed check
            self.results.append(Check(group, name, str(_norm(expected)), f"error: {exc}", False))
            return
        ok = _norm(actual) == _norm(expected)
        self.results.append(Check(group, name, str(_norm(expected)), str(_norm(actual)), ok))

    def role(self, cname: str, contract: Any, role: str, rid: bytes, who: str, label: str,
             want: bool) -> None:
        verb = "holds" if want else "does not hold"
        self.eq("roles", f"{cname}: {label} {verb} {role}", want,
                lambda: bool(contract.hasRole(rid, who)))


def run_checks(gp: GovernedProtocol, params: Params) -> list[Check]:
    c = _Checks()
    _roles(c, gp)
    _params(c, gp, params)
    _links(c, gp)
    _committee(c, gp, params)
    return c.results


def _committee(c: _Checks, gp: GovernedProtocol, params: Params) -> None:
    """The oracle committee, when the params deploy one: governed by the timelock alone, its
    bounded parameters as in the file, linked to WATT, EnergyCredits and the treasury."""
    c.eq("links", "OracleCommittee deployed", params.committee is not None,
         lambda: gp.committee is not None)
    if gp.committee is None or params.committee is None:
        return
    cm, name = gp.committee, "OracleCommittee"
    people = (("deployer", gp.deployer), ("guardian", gp.guardian), ("oracle", gp.oracle))
    for role in COMMITTEE_ROLES:
        c.role(name, cm, role, role_id(role), gp.timelock.address, "timelock", True)
        for label, who in people:
            c.role(name, cm, role, role_id(role), who, label, False)
    for cname, role in COMMITTEE_GRANTS:
        c.role(cname, gp.protocol.as_dict()[cname], role, role_id(role), cm.address, "committee",
               True)
    u = to_chain_units(params)["committee"]
    c.eq("params", "OracleCommittee.minStake", u["min_stake"], cm.minStake)
    c.eq("params", "OracleCommittee.unbondingDelay", u["unbonding_delay"], cm.unbondingDelay)
    c.eq("params", "OracleCommittee.bountyBps", u["bounty_bps"], cm.bountyBps)
    c.eq("links", "OracleCommittee.watt", gp.watt.address, cm.watt)
    c.eq("links", "OracleCommittee.settlement", gp.credits.address, cm.settlement)
    c.eq("links", "OracleCommittee.treasury", gp.treasury, cm.treasury)


def _roles(c: _Checks, gp: GovernedProtocol) -> None:
    contracts = gp.protocol.as_dict()
    people = (("deployer", gp.deployer), ("guardian", gp.guardian), ("oracle", gp.oracle))
    for cname, contract in contracts.items():
        for role in ("DEFAULT_ADMIN_ROLE", *roles.CONTRACT_ROLES[cname]):
            rid = role_id(role)
            for label, who in people:
                own = (cname, role, label) in {("EnergyCredits", "PAUSER_ROLE", "guardian"),
                                               ("OperatorStaking", "FREEZER_ROLE", "guardian"),
                                               ("EnergyCredits", "ORACLE_ROLE", "oracle")}
                c.role(cname, contract, role, rid, who, label, own)
        for role in GOVERNED_ROLES[cname]:
            c.role(cname, contract, role, role_id(role), gp.timelock.address, "timelock", True)
    c.role("WattToken", gp.watt, "MINTER_ROLE", roles.MINTER_ROLE, gp.rewards.address,
           "RewardsEngine", True)
    c.role("OperatorStaking", gp.staking, "REGISTRY_ROLE", roles.REGISTRY_ROLE,
           gp.registry.address, "StationRegistry", True)
    c.role("RewardsEngine", gp.rewards, "FINDINGS_ROLE", roles.FINDINGS_ROLE,
           gp.staking.address, "OperatorStaking (fraud proofs)", True)
    tl = gp.timelock
    admin = roles.DEFAULT_ADMIN_ROLE
    c.role("WattTimelock", tl, "DEFAULT_ADMIN_ROLE", admin, tl.address, "timelock", True)
    for label, who in people:
        c.role("WattTimelock", tl, "DEFAULT_ADMIN_ROLE", admin, who, label, False)
        for role, rid in TIMELOCK_ROLES.items():
            c.role("WattTimelock", tl, role, rid, who, label, False)
    c.role("WattTimelock", tl, "PROPOSER_ROLE", TIMELOCK_ROLES["PROPOSER_ROLE"],
           gp.governor.address, "governor", True)
    c.role("WattTimelock", tl, "CANCELLER_ROLE", TIMELOCK_ROLES["CANCELLER_ROLE"],
           gp.governor.address, "governor", True)
    c.role("WattTimelock", tl, "EXECUTOR_ROLE", TIMELOCK_ROLES["EXECUTOR_ROLE"], ZERO_ADDRESS,
           "anyone (address 0)", True)


def _params(c: _Checks, gp: GovernedProtocol, params: Params) -> None:
    u = to_chain_units(params)
    st, rg, se, rw, gv = (u["staking"], u["registry"], u["settlement"], u["rewards"],
                          u["governance"])
    p = "params"
    c.eq(p, "WattToken.cap", u["token"]["cap"], gp.watt.cap)
    c.eq(p, "RewardsEngine.maxEmission", u["token"]["cap"] - rw["genesis_supply"],
         gp.rewards.maxEmission)
    c.eq(p, "RewardsEngine.phases", contract_phases(params), gp.rewards.phases)
    s = gp.staking
    c.eq(p, "OperatorStaking.minStakePerStation", st["min_stake_per_station"],
         s.minStakePerStation)
    c.eq(p, "OperatorStaking.unbondingDelay", st["unbonding_delay"], s.unbondingDelay)
    c.eq(p, "OperatorStaking.equivocationSlash", st["equivocation_slash"], s.equivocationSlash)
    c.eq(p, "OperatorStaking.equivocationBountyBps", st["equivocation_bounty_bps"],
         s.equivocationBountyBps)
    burn = params.staking.slash_destination is SlashDestination.BURN
    c.eq(p, "OperatorStaking.slashDestination", int(burn), s.slashDestination)
    c.eq(p, "OperatorStaking.stakePerKw", st["stake_per_kw"], s.stakePerKw)
    c.eq(p, "OperatorStaking.overlapToleranceS", st["overlap_tolerance"], s.overlapToleranceS)
    c.eq(p, "OperatorStaking.treasury", gp.treasury, s.treasury)
    r = gp.registry
    c.eq(p, "StationRegistry.minTariffPerKwh", rg["min_tariff_per_kwh"], r.minTariffPerKwh)
    c.eq(p, "StationRegistry.maxTariffPerKwh", rg["max_tariff_per_kwh"], r.maxTariffPerKwh)
    for prefix, bps in params.registry.region_multipliers:
        key = geohash_bytes8(prefix)
        c.eq(p, f"StationRegistry.multiplierOfPrefix({prefix})", bps,
             partial(r.multiplierOfPrefix, key))
    cr = gp.credits
    timing = (u["credits"]["redemption_delay"], se["max_settlement_delay"],
              se["max_session_duration"])
    c.eq(p, "EnergyCredits.timing", timing, cr.timing)
    c.eq(p, "EnergyCredits.operatorShareBps", se["operator_share_bps"], cr.operatorShareBps)
    c.eq(p, "EnergyCredits.referrerShareBps", se["referrer_share_bps"], cr.referrerShareBps)
    c.eq(p, "EnergyCredits.stationEpochCapBps", rw["station_epoch_cap_bps"],
         cr.stationEpochCapBps)
    c.eq(p, "EnergyCredits.treasury", gp.treasury, cr.treasury)
    c.eq(p, "StationRegistry.uncertifiedRewardBps", rg["uncertified_reward_bps"],
         r.uncertifiedRewardBps)
    c.eq(p, "StationRegistry.releaseDelay", rg["release_delay"], r.releaseDelay)
    rew = gp.rewards
    c.eq(p, "RewardsEngine.challengeWindow", rw["challenge_window"], rew.challengeWindow)
    c.eq(p, "RewardsEngine.feeMultipleBps", rw["fee_multiple_bps"], rew.feeMultipleBps)
    c.eq(p, "RewardsEngine.priceFloor", rw["watt_price_floor"], rew.priceFloor)
    c.eq(p, "EnergyCredits.creditCount", len(params.credits.stablecoins), cr.creditCount)
    for coin in params.credits.stablecoins:
        token = gp.stablecoins[coin.symbol]
        c.eq(p, f"EnergyCredits.tokenOf({coin.credit_id}) = {coin.symbol}", token.address,
             partial(cr.tokenOf, coin.credit_id))
        c.eq(p, f"{coin.symbol}.decimals", coin.decimals, token.decimals)
        c.eq(p, f"EnergyCredits.salesOpen({coin.credit_id})", True,
             partial(cr.salesOpen, coin.credit_id))
    g = "governance"
    c.eq(g, "WattGovernor.name", "WattNet Governor", gp.governor.name)
    c.eq(g, "WattGovernor.votingDelay", gv["voting_delay"], gp.governor.votingDelay)
    c.eq(g, "WattGovernor.votingPeriod", gv["voting_period"], gp.governor.votingPeriod)
    c.eq(g, "WattGovernor.proposalThreshold", gv["proposal_threshold"],
         gp.governor.proposalThreshold)
    c.eq(g, "WattGovernor.quorumNumerator", gv["quorum_percent"], gp.governor.quorumNumerator)
    c.eq(g, "WattGovernor.lateQuorumVoteExtension", gv["late_quorum_extension"],
         gp.governor.lateQuorumVoteExtension)
    c.eq(g, "WattTimelock.getMinDelay", gv["timelock_delay"], gp.timelock.getMinDelay)
    c.eq(g, "EnergyCredits.paused", False, cr.paused)


def _links(c: _Checks, gp: GovernedProtocol) -> None:
    lk = "links"
    c.eq(lk, "OperatorStaking.watt", gp.watt.address, gp.staking.watt)
    c.eq(lk, "OperatorStaking.registry", gp.registry.address, gp.staking.registry)
    c.eq(lk, "OperatorStaking.settlement", gp.credits.address, gp.staking.settlement)
    c.eq(lk, "OperatorStaking.receiptDomainSeparator", gp.credits.domainSeparator(),
         gp.staking.receiptDomainSeparator)
    c.eq(lk, "StationRegistry.staking", gp.staking.address, gp.registry.staking)
    c.eq(lk, "StationRegistry.credits", gp.credits.address, gp.registry.credits)
    c.eq(lk, "RewardsEngine.watt", gp.watt.address, gp.rewards.watt)
    c.eq(lk, "RewardsEngine.weightSource", gp.credits.address, gp.rewards.weightSource)
    c.eq(lk, "OperatorStaking.rewards", gp.rewards.address, gp.staking.rewards)
    c.eq(lk, "RewardsEngine.registry", gp.registry.address, gp.rewards.registry)
    c.eq(lk, "EnergyCredits.registry", gp.registry.address, gp.credits.registry)
    c.eq(lk, "EnergyCredits.rewards", gp.rewards.address, gp.credits.rewards)
    c.eq(lk, "WattGovernor.token", gp.watt.address, gp.governor.token)
    c.eq(lk, "WattGovernor.timelock", gp.timelock.address, gp.governor.timelock)


def checks_table(results: list[Check], *, failed_only: bool = False) -> Table:
    """The results as a rich table (only the failures with ``failed_only``)."""
    from rich.table import Table

    ok = sum(r.ok for r in results)
    table = Table(title=f"post-deploy checks: {ok}/{len(results)} passed")
    for col in ("", "group", "check", "expected", "actual"):
        table.add_column(col, overflow="fold")
    for r in results:
        if failed_only and r.ok:
            continue
        mark = "[green]ok[/]" if r.ok else "[red]FAIL[/]"
        table.add_row(mark, r.group, r.name, _short(r.expected), _short(r.actual))
    return table


def _short(text: str) -> str:
    """Long hex values (addresses, hashes) as 0x1234abcd…9876 in the table."""
    if text.startswith("0x") and len(text) > 24:
        return f"{text[:10]}…{text[-6:]}"
    return text
