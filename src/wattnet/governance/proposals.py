"""The life of a parameter-change proposal on the WattGovernor: plan, propose, vote, queue,
execute, cancel, status.

Each step first checks what the contracts would check (state, threshold, one vote per account,
the timelock's eta) and refuses with one line saying why and when; a revert that still happens
is explained the same way (:func:`wattnet.governance.client.explain`).

Cancelling: the Governor lets the *proposer* cancel while the proposal is Pending (before voting
starts). Once queued, a holder of the timelock's ``CANCELLER_ROLE`` can cancel the timelock
operation (the Governor then reports Canceled); WattTimelock grants that role to the Governor,
and to a guardian only if the deployment granted it one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from wattnet.governance.changeset import ChangeSet, overlay, proposed
from wattnet.governance.client import (
    REWARDS,
    ChainView,
    GovernanceError,
    explain,
    watt,
    when,
)
from wattnet.governance.members import KEY as MEMBERS_KEY
from wattnet.governance.members import THRESHOLD, member_calls
from wattnet.governance.records import Proposal, describe_call, find, state_of, status
from wattnet.governance.safe import SafeSender
from wattnet.governance.schedule import SETTER as SCHEDULE_SETTER
from wattnet.governance.schedule import SchedulePlan, plan_schedule, show
from wattnet.governance.table import (
    COMMITTEE,
    REGION_PREFIX,
    SCHEDULE_KEY,
    TIMELOCK,
    Call,
    arg_types,
    build_calls,
    selector,
)
from wattnet.params import EPOCH_LENGTH, Params

SUPPORT = {"against": 0, "for": 1, "abstain": 2}
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")


@dataclass(frozen=True, slots=True)
class Plan:
    """A change set against the chain: current and proposed values, the calls, the params
    before (chain values over the params file) and after."""

    change_set: ChangeSet
    current: dict[str, Any]
    proposed: dict[str, Any]
    calls: list[Call]
    before: Params
    after: Params
    description: str
    targets: list[str]
    calldatas: list[bytes]
    notes: list[str]


def make_plan(view: ChainView, change_set: ChangeSet, params: Params) -> Plan:
    regions = [k for k in change_set.changes if k.startswith(REGION_PREFIX)]
    current = view.current(params, regions)
    before = overlay(params, current, f"{params.network} on chain (over {params.source})")
    after, values = proposed(change_set, before)
    calls = build_calls(values, current)
    if MEMBERS_KEY in values or THRESHOLD in values:
        calls = _committee_calls(view, values, current, calls, change_set.source)
    notes: list[str] = []
    if SCHEDULE_KEY in values and values[SCHEDULE_KEY] != current[SCHEDULE_KEY]:
        sched = _schedule_plan(view, values[SCHEDULE_KEY], change_set.source)
        calls.append(Call(REWARDS, SCHEDULE_SETTER, (sched.from_epoch, sched.next),
                          (SCHEDULE_KEY,)))
        notes.append(f"emission schedule replaced from epoch {sched.from_epoch}: execute by "
                     f"{when(sched.execute_by, view.now())}, else propose again")
    lines = [f"# {change_set.name}", "", change_set.description, ""]
    lines += [f"- {k}: {_short(current.get(k))} -> {_short(v)}" for k, v in values.items()]
    return Plan(change_set, current, values, calls, before, after, "\n".join(lines),
                [view.deployment.address(c.contract) for c in calls],
                [c.calldata for c in calls], notes)


def _committee_calls(view: ChainView, values: dict[str, Any], current: dict[str, Any],
                     calls: list[Call], source: str) -> list[Call]:
    """Admissions first, then the parameter calls (the threshold among them), removals last."""
    members = values.get(MEMBERS_KEY, current.get(MEMBERS_KEY))
    if members is None:
        raise GovernanceError(f"{source}: this deployment has no OracleCommittee")
    committee = view.contract(COMMITTEE)

    def node_of(node: str) -> tuple[str, int, int, bool]:
        operator, stake, unbonding_at, member = committee.nodeOf(node)
        return str(operator), int(stake), int(unbonding_at), bool(member)

    admits, removes = member_calls(members, current[MEMBERS_KEY],
                                   int(values.get(THRESHOLD, current[THRESHOLD])),
                                   int(committee.minStake()), node_of, source)
    return admits + calls + removes


def _short(value: Any) -> Any:
    return show(value) if isinstance(value, list) else value


def _schedule_plan(view: ChainView, phases: list[Any], source: str) -> SchedulePlan:
    """setSchedule's arguments: from the epoch after the one the earliest execution falls in,
    plus one whole epoch of slack to execute in."""
    gov = view.governor
    earliest = (view.now() + int(gov.votingDelay()) + int(gov.votingPeriod())
                + int(gov.lateQuorumVoteExtension()) + int(view.contract(TIMELOCK).getMinDelay()))
    genesis = view.rewards_uint("genesis()")
    from_epoch = (earliest - genesis) // EPOCH_LENGTH + 2
    return plan_schedule(phases, view.chain_phases(), from_epoch, genesis,
                         view.rewards_uint("maxEmission()"), source)


def _check_schedule_window(view: ChainView, pid: int, p: Proposal) -> None:
    """A setSchedule call works only before its start epoch begins."""
    for data in p.calldatas:
        if data[:4] != selector(SCHEDULE_SETTER):
            continue
        start = int(decode(arg_types(SCHEDULE_SETTER), data[4:])[0])
        genesis = view.rewards_uint("genesis()")
        current = (max(view.now() + 1, int(time.time())) - genesis) // EPOCH_LENGTH
        if current >= start:
            raise GovernanceError(
                f"cannot execute proposal {pid}: its emission schedule starts at epoch {start}, "
                f"and epoch {current} has begun; propose the schedule change again")


def _send(contract: Any, method: str, *args: Any, sender: Any) -> Any:
    """``contract.method(*args)`` from ``sender``; a :class:`SafeSender` executes it through
    its Safe (or keeps it for the export)."""
    from ape.exceptions import ApeException

    if isinstance(sender, SafeSender):
        # `_mutable_methods_`: `delegate` and `nonce` are shadowed by Ape's attributes
        data = bytes(contract._mutable_methods_[method].encode_input(*args))
        return sender.send(str(contract.address), data)
    try:
        return contract.invoke_transaction(method, *args, sender=sender)
    except (ApeException, ValueError) as exc:
        raise explain(exc) from None


def proposal_id(view: ChainView, plan: Plan) -> int:
    return int(view.governor.getProposalId(plan.targets, [0] * len(plan.targets),
                                           plan.calldatas, keccak(text=plan.description)))


def preflight(view: ChainView, sender: Any, plan: Plan) -> int:
    """What the Governor checks before a proposal, checked first; returns the proposal id."""
    if not plan.calls:
        raise GovernanceError(f"{plan.change_set.source}: nothing to change (every value is "
                              "already on chain)")
    return _preflight(view, sender, proposal_id(view, plan))


def _preflight(view: ChainView, sender: Any, pid: int) -> int:
    gov = view.governor
    if int(gov.proposalSnapshot(pid)) != 0:
        raise GovernanceError(f"this change set is already proposal {pid} ({state_of(view, pid)}); "
                              "edit its description to propose it again")
    # The Governor counts votes one second before the proposing block; the token's current
    # votes are what that block will see (unless it shares the delegation block's timestamp).
    votes = int(view.contract("WattToken").getVotes(sender.address))
    threshold = int(gov.proposalThreshold())
    if votes < threshold:
        raise GovernanceError(
            f"{sender.address} has {watt(votes)} of votes, below the proposal threshold of "
            f"{watt(threshold)}; delegate WATT to it (WattToken.delegate) first"
        )
    return pid


def propose(view: ChainView, sender: Any, plan: Plan) -> int:
    preflight(view, sender, plan)
    return propose_calls(view, sender, plan.targets, plan.calldatas, plan.description)


def propose_calls(view: ChainView, sender: Any, targets: list[str], calldatas: list[bytes],
                  description: str) -> int:
    """Governor.propose of these calls (values 0) after the Governor's own checks."""
    pid = int(view.governor.getProposalId(targets, [0] * len(targets), calldatas,
                                          keccak(text=description)))
    _preflight(view, sender, pid)
    _send(view.governor, "propose", targets, [0] * len(targets), calldatas, description,
          sender=sender)
    return pid


def delegate(view: ChainView, sender: Any, to: str | None) -> int:
    """Delegate the sender's WATT votes (to itself by default); returns ``to``'s votes."""
    token = view.contract("WattToken")
    target = to or sender.address
    # `delegate` is shadowed on Ape contract instances
    _send(token, "delegate", target, sender=sender)
    return int(token.getVotes(target))


def _expect(view: ChainView, pid: int, wanted: str, doing: str) -> None:
    state = state_of(view, pid)
    if state == wanted:
        return
    gov, now = view.governor, view.now()
    hint = {
        "Pending": f"voting starts {when(int(gov.proposalSnapshot(pid)), now)}",
        "Active": f"voting ends {when(int(gov.proposalDeadline(pid)), now)}",
        "Defeated": "it did not reach quorum or a majority for",
        "Succeeded": "queue it first",
        "Queued": f"it can execute {when(int(gov.proposalEta(pid)), now)}",
    }.get(state, "nothing more can happen to it")
    raise GovernanceError(f"cannot {doing} proposal {pid}: it is {state} ({hint})")


def vote(view: ChainView, sender: Any, pid: int, support: str, reason: str | None) -> int:
    """Cast ``sender``'s vote; returns its weight (wei of WATT)."""
    gov = view.governor
    if int(gov.proposalSnapshot(pid)) == 0:
        raise GovernanceError(f"no proposal {pid} on the governor at {view.governor_address}")
    _expect(view, pid, "Active", "vote on")
    if gov.hasVoted(pid, sender.address):
        raise GovernanceError(f"{sender.address} has already voted on proposal {pid}")
    weight = int(gov.getVotes(sender.address, int(gov.proposalSnapshot(pid))))
    if weight == 0:
        raise GovernanceError(
            f"{sender.address} had no votes at proposal {pid}'s snapshot (delegate WATT before a "
            "proposal is made)")
    code = SUPPORT[support]
    if reason:
        _send(gov, "castVoteWithReason", pid, code, reason, sender=sender)
    else:
        _send(gov, "castVote", pid, code, sender=sender)
    return weight


def queue(view: ChainView, sender: Any, pid: int) -> int:
    """Queue a succeeded proposal in the timelock; returns its eta."""
    _expect(view, pid, "Succeeded", "queue")
    p = find(view, pid)
    _send(view.governor, "queue", list(p.targets), list(p.values), list(p.calldatas),
          p.description_hash, sender=sender)
    return int(view.governor.proposalEta(pid))


def execute(view: ChainView, sender: Any, pid: int) -> None:
    _expect(view, pid, "Queued", "execute")
    eta = int(view.governor.proposalEta(pid))
    now = view.now()
    if max(now + 1, int(time.time())) < eta:
        raise GovernanceError(f"cannot execute proposal {pid} yet: the timelock delay runs until "
                              f"{when(eta, now)}")
    p = find(view, pid)
    _check_schedule_window(view, pid, p)
    _send(view.governor, "execute", list(p.targets), list(p.values), list(p.calldatas),
          p.description_hash, sender=sender)


def cancel(view: ChainView, sender: Any, pid: int) -> str:
    """Cancel as the proposer (Pending) or as a timelock canceller (Queued); returns how."""
    gov, state = view.governor, state_of(view, pid)
    p = find(view, pid)
    args = (list(p.targets), list(p.values), list(p.calldatas))
    if state == "Pending" and sender.address.lower() == p.proposer.lower():
        _send(gov, "cancel", *args, p.description_hash, sender=sender)
        return "cancelled by its proposer"
    timelock = view.contract(TIMELOCK)
    if state == "Queued" and timelock.hasRole(CANCELLER_ROLE, sender.address):
        gov_word = bytes.fromhex(view.governor_address[2:]).ljust(32, b"\x00")
        salt = bytes(a ^ b for a, b in zip(gov_word, p.description_hash, strict=True))
        op = timelock.hashOperationBatch(*args, bytes(32), salt)
        _send(timelock, "cancel", op, sender=sender)
        return "timelock operation cancelled by a CANCELLER_ROLE holder"
    raise GovernanceError(
        f"{sender.address} cannot cancel proposal {pid} ({state}): the proposer ({p.proposer}) "
        "can while it is Pending; a holder of the timelock's CANCELLER_ROLE can while it is Queued"
    )


__all__ = ["Plan", "Proposal", "cancel", "delegate", "describe_call", "execute", "find",
           "make_plan", "preflight", "propose", "propose_calls", "queue", "status", "vote"]
