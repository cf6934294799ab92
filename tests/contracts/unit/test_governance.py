"""The governed deployment: WattGovernor's settings, who holds which role after deploy, the
guardian (pause only), and governance proposals end to end (propose -> vote with delegated WATT
-> time travel -> queue -> execute): unpausing, rotating the oracle key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import ape
import pytest
from eth_utils.crypto import keccak

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy_checks import run_checks
from wattnet.chain.deploy_plan import (
    GOVERNED_ROLES,
    TIMELOCK_ROLES,
    GovernedProtocol,
    deploy_governed,
)
from wattnet.params import WEI_PER_WATT, apply_overrides, load_params

WAD = WEI_PER_WATT
PARAMS = load_params("local")
GOV = PARAMS.governance
ALL_ROLES = ("DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "PAUSER_ROLE", "ORACLE_ROLE", "SLASHER_ROLE",
             "MINTER_ROLE", "REGISTRY_ROLE", "REGISTRY_ADMIN_ROLE")
ACTIVE, SUCCEEDED, QUEUED, EXECUTED, PENDING = 1, 4, 5, 7, 0


def rid(name: str) -> bytes:
    return roles.DEFAULT_ADMIN_ROLE if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


@pytest.fixture(scope="module")
def gp(project: Any, accounts: Any, governor: Any, guardian: Any, oracle: Any,
       treasury: Any) -> GovernedProtocol:
    p = deploy_governed(project, governor, PARAMS, guardian=guardian, oracle=oracle,
                        treasury=treasury)
    # the voter holds 10 % of the supply (above quorum and threshold), delegated to itself
    p.watt.transfer(accounts[5], 20_000_000 * WAD, sender=treasury)
    # `delegate` is shadowed on Ape contract instances
    p.watt.invoke_transaction("delegate", accounts[5], sender=accounts[5])
    return p


@pytest.fixture
def voter(accounts: Any) -> Any:
    return accounts[5]


def pass_proposal(gp: GovernedProtocol, chain: Any, voter: Any, targets: list[Any],
                  calldatas: list[bytes], description: str) -> int:
    """Propose, vote for, wait out voting and the timelock, queue and execute; the id."""
    chain.mine(1)  # the delegation must lie before the vote's snapshot
    values = [0] * len(targets)
    addrs = [getattr(t, "address", t) for t in targets]
    tx = gp.governor.propose(addrs, values, calldatas, description, sender=voter)
    [log] = tx.decode_logs(gp.governor.ProposalCreated)
    pid = log.proposalId
    chain.pending_timestamp += GOV.voting_delay + 1
    chain.mine(1)
    assert gp.governor.state(pid) == ACTIVE
    gp.governor.castVote(pid, 1, sender=voter)
    chain.pending_timestamp += GOV.voting_period + GOV.late_quorum_extension + 1
    chain.mine(1)
    assert gp.governor.state(pid) == SUCCEEDED
    dhash = keccak(text=description)
    gp.governor.queue(addrs, values, calldatas, dhash, sender=voter)
    assert gp.governor.state(pid) == QUEUED
    with ape.reverts():  # not before the timelock delay
        gp.governor.execute(addrs, values, calldatas, dhash, sender=voter)
    chain.pending_timestamp += GOV.timelock_delay + 1
    chain.mine(1)
    gp.governor.execute(addrs, values, calldatas, dhash, sender=voter)
    assert gp.governor.state(pid) == EXECUTED
    return int(pid)


# ---------------------------------------------------------------- governor settings
def test_governor__settings_match_params(gp: GovernedProtocol) -> None:
    g = gp.governor
    assert g.name() == "WattNet Governor"
    assert g.token() == gp.watt.address
    assert g.timelock() == gp.timelock.address
    assert g.votingDelay() == GOV.voting_delay
    assert g.votingPeriod() == GOV.voting_period
    assert g.proposalThreshold() == int(GOV.proposal_threshold) * WAD
    assert g.quorumNumerator() == GOV.quorum_percent
    assert g.lateQuorumVoteExtension() == GOV.late_quorum_extension
    assert gp.timelock.getMinDelay() == GOV.timelock_delay


def test_governor__clock_is_watts_timestamp(gp: GovernedProtocol, chain: Any) -> None:
    assert gp.governor.CLOCK_MODE() == "mode=timestamp"
    assert gp.governor.clock() == chain.blocks.head.timestamp


def test_governor__quorum_is_percent_of_supply(gp: GovernedProtocol, chain: Any) -> None:
    chain.mine(1)
    past = chain.blocks.head.timestamp - 1
    supply = gp.watt.getPastTotalSupply(past)
    assert gp.governor.quorum(past) == supply * GOV.quorum_percent // 100


def test_governor__settings_only_through_governance(gp: GovernedProtocol, attacker: Any) -> None:
    with ape.reverts(gp.governor.GovernorOnlyExecutor, account=attacker.address):
        gp.governor.setVotingPeriod(1, sender=attacker)


# ---------------------------------------------------------------- roles after deploy
def test_deploy__deployer_holds_no_role_anywhere(gp: GovernedProtocol, governor: Any) -> None:
    for name, c in gp.as_dict().items():
        names = TIMELOCK_ROLES if name == "WattTimelock" else ALL_ROLES
        for role in names:
            r = TIMELOCK_ROLES.get(role) or rid(role)
            if name == "WattGovernor":
                continue  # no AccessControl
            assert not c.hasRole(r, governor), (name, role)
    assert not gp.timelock.hasRole(rid("DEFAULT_ADMIN_ROLE"), governor)


def test_deploy__timelock_holds_every_admin_and_params_role(gp: GovernedProtocol) -> None:
    contracts = gp.protocol.as_dict()
    for cname, governed in GOVERNED_ROLES.items():
        for role in governed:
            assert contracts[cname].hasRole(rid(role), gp.timelock), (cname, role)
    assert gp.timelock.hasRole(rid("DEFAULT_ADMIN_ROLE"), gp.timelock)  # self-administered


def test_timelock_roles__python_mirror_equals_the_contract(gp: GovernedProtocol) -> None:
    assert gp.timelock.PROPOSER_ROLE() == roles.PROPOSER_ROLE
    assert gp.timelock.EXECUTOR_ROLE() == roles.EXECUTOR_ROLE
    assert gp.timelock.CANCELLER_ROLE() == roles.CANCELLER_ROLE
    assert gp.timelock.DEFAULT_ADMIN_ROLE() == roles.DEFAULT_ADMIN_ROLE


def test_deploy__governor_proposes_and_anyone_executes(gp: GovernedProtocol) -> None:
    tl = gp.timelock
    assert tl.hasRole(TIMELOCK_ROLES["PROPOSER_ROLE"], gp.governor)
    assert tl.hasRole(TIMELOCK_ROLES["CANCELLER_ROLE"], gp.governor)
    assert tl.hasRole(TIMELOCK_ROLES["EXECUTOR_ROLE"], "0x" + "00" * 20)
    assert not tl.hasRole(TIMELOCK_ROLES["PROPOSER_ROLE"], gp.guardian)


def test_deploy__operational_roles(gp: GovernedProtocol, guardian: Any, oracle: Any) -> None:
    assert gp.credits.hasRole(roles.ORACLE_ROLE, oracle)
    assert gp.credits.hasRole(roles.PAUSER_ROLE, guardian)
    assert gp.watt.hasRole(roles.MINTER_ROLE, gp.rewards)
    assert gp.staking.hasRole(roles.REGISTRY_ROLE, gp.registry)
    for c in gp.protocol.as_dict().values():
        assert not c.hasRole(roles.DEFAULT_ADMIN_ROLE, guardian)


def test_deploy__post_deploy_checks_all_pass(gp: GovernedProtocol) -> None:
    results = run_checks(gp, PARAMS)
    failed = [r for r in results if not r.ok]
    assert failed == []
    assert len(results) > 60


def test_deploy__checks_catch_a_wrong_role_holder(gp: GovernedProtocol, attacker: Any) -> None:
    failed = [r.name for r in run_checks(replace(gp, oracle=attacker.address), PARAMS)
              if not r.ok]
    assert failed == ["EnergyCredits: oracle holds ORACLE_ROLE"]


def test_deploy__checks_catch_a_parameter_unlike_the_yaml(gp: GovernedProtocol) -> None:
    other = apply_overrides(PARAMS, {"staking.unbonding_delay": "2h"})
    failed = [r for r in run_checks(gp, other) if not r.ok]
    assert [(r.name, r.expected, r.actual) for r in failed] == [
        ("OperatorStaking.unbondingDelay", "7200", "3600")]


def test_deploy__checks_catch_a_paused_ledger(gp: GovernedProtocol, guardian: Any) -> None:
    gp.credits.pause(sender=guardian)
    failed = [r.name for r in run_checks(gp, PARAMS) if not r.ok]
    assert failed == ["EnergyCredits.paused"]


# ---------------------------------------------------------------- guardian
def test_guardian__can_pause(gp: GovernedProtocol, guardian: Any) -> None:
    gp.credits.pause(sender=guardian)
    assert gp.credits.paused()


def test_guardian__cannot_unpause(gp: GovernedProtocol, guardian: Any) -> None:
    gp.credits.pause(sender=guardian)
    with ape.reverts(gp.credits.AccessControlUnauthorizedAccount, account=guardian.address,
                     neededRole=roles.DEFAULT_ADMIN_ROLE):
        gp.credits.unpause(sender=guardian)
    assert gp.credits.paused()


def test_guardian__cannot_grant_itself_anything(gp: GovernedProtocol, guardian: Any) -> None:
    with ape.reverts(gp.credits.AccessControlUnauthorizedAccount):
        gp.credits.grantRole(roles.DEFAULT_ADMIN_ROLE, guardian, sender=guardian)
    with ape.reverts(gp.timelock.AccessControlUnauthorizedAccount):
        gp.timelock.schedule(gp.credits, 0, b"", bytes(32), bytes(32), GOV.timelock_delay,
                             sender=guardian)


# ---------------------------------------------------------------- governance end to end
def test_unpause__through_a_governance_proposal(gp: GovernedProtocol, guardian: Any,
                                                voter: Any, chain: Any) -> None:
    gp.credits.pause(sender=guardian)
    data = gp.credits.unpause.as_transaction(sender=gp.timelock.address).data
    pass_proposal(gp, chain, voter, [gp.credits], [data], "Unpause EnergyCredits after incident")
    assert not gp.credits.paused()


def test_oracle_rotation__grant_new_revoke_old_by_proposal(gp: GovernedProtocol, oracle: Any,
                                                           voter: Any, chain: Any,
                                                           accounts: Any) -> None:
    new_oracle = accounts[7]
    grant = gp.credits.grantRole.as_transaction(roles.ORACLE_ROLE, new_oracle,
                                                sender=gp.timelock.address).data
    revoke = gp.credits.revokeRole.as_transaction(roles.ORACLE_ROLE, oracle,
                                                  sender=gp.timelock.address).data
    pass_proposal(gp, chain, voter, [gp.credits, gp.credits], [grant, revoke],
                  "Rotate the oracle key")
    assert gp.credits.hasRole(roles.ORACLE_ROLE, new_oracle)
    assert not gp.credits.hasRole(roles.ORACLE_ROLE, oracle)
    gp.credits.settlePacked(pack_tuples([]), sender=new_oracle)
    with ape.reverts(gp.credits.AccessControlUnauthorizedAccount):
        gp.credits.settlePacked(pack_tuples([]), sender=oracle)


@pytest.mark.parametrize("case", ["governor.votingPeriod", "credits.shares"])
def test_proposal__a_passed_vote_is_still_bounded(gp: GovernedProtocol, voter: Any, chain: Any,
                                                  case: str) -> None:
    """Bounds bind governance itself: an out-of-bounds change passes the vote, then its execution
    reverts with the contract's own error, and nothing changes."""
    if case == "governor.votingPeriod":
        target, data = gp.governor, gp.governor.setVotingPeriod.as_transaction(
            60, sender=gp.timelock.address).data
        error = gp.governor.GovernanceParameterOutOfBounds
    else:
        target, data = gp.credits, gp.credits.setShares.as_transaction(
            4_000, 500, sender=gp.timelock.address).data
        error = gp.credits.SettlementSharesOutOfBounds
    chain.mine(1)
    description = f"Out of bounds: {case}"
    args = ([target.address], [0], [data], keccak(text=description))
    tx = gp.governor.propose(*args[:3], description, sender=voter)
    pid = tx.decode_logs(gp.governor.ProposalCreated)[0].proposalId
    chain.pending_timestamp += GOV.voting_delay + 1
    chain.mine(1)
    gp.governor.castVote(pid, 1, sender=voter)
    chain.pending_timestamp += GOV.voting_period + GOV.late_quorum_extension + 1
    chain.mine(1)
    gp.governor.queue(*args, sender=voter)
    chain.pending_timestamp += GOV.timelock_delay + 1
    chain.mine(1)
    with ape.reverts(error):
        gp.governor.execute(*args, sender=voter)
    assert gp.governor.state(pid) == QUEUED
    assert gp.governor.votingPeriod() == GOV.voting_period
    assert gp.credits.operatorShareBps() == PARAMS.settlement.operator_share_bps


def test_proposal__below_threshold_reverts(gp: GovernedProtocol, attacker: Any) -> None:
    data = gp.credits.unpause.as_transaction(sender=gp.timelock.address).data
    with ape.reverts(gp.governor.GovernorInsufficientProposerVotes):
        gp.governor.propose([gp.credits.address], [0], [data], "x", sender=attacker)


# ---------------------------------------------------------------- runbooks, as written
RUNBOOKS = Path(__file__).resolve().parents[3] / "docs" / "runbooks"


def runbook_code(name: str) -> str:
    """The python block between <!-- runbook:begin --> and <!-- runbook:end --> of a runbook."""
    text = (RUNBOOKS / name).read_text()
    block = text.split("<!-- runbook:begin -->")[1].split("<!-- runbook:end -->")[0]
    return block.split("```python")[1].split("```")[0]


def test_runbook__pause_and_unpause(gp: GovernedProtocol, guardian: Any, voter: Any,
                                    chain: Any) -> None:
    scope = {"credits": gp.credits, "governor": gp.governor, "timelock": gp.timelock,
             "guardian": guardian, "voter": voter, "chain": chain}
    chain.mine(1)  # the voter's delegation lies before the proposal's snapshot
    exec(runbook_code("pause.md"), scope)  # the runbook's own commands, as written
    assert not gp.credits.paused()
    assert gp.governor.state(scope["proposal_id"]) == EXECUTED


def test_runbook__oracle_key_rotation(gp: GovernedProtocol, oracle: Any, voter: Any,
                                      chain: Any, accounts: Any) -> None:
    new_oracle = accounts[7]
    scope = {"credits": gp.credits, "governor": gp.governor, "timelock": gp.timelock,
             "voter": voter, "chain": chain, "old_oracle": oracle.address,
             "new_oracle": new_oracle.address}
    chain.mine(1)
    exec(runbook_code("oracle-key-rotation.md"), scope)
    gp.credits.settlePacked(pack_tuples([]), sender=new_oracle)
    with ape.reverts(gp.credits.AccessControlUnauthorizedAccount, account=oracle.address,
                     neededRole=roles.ORACLE_ROLE):
        gp.credits.settlePacked(pack_tuples([]), sender=oracle)
