"""``committee.members`` by vote: admitting and removing oracle committee nodes.

In a change set, ``committee.members`` is the whole membership after the vote (node key
addresses, any order); the chain's is ``OracleCommittee.members()``. The proposal admits the new
nodes first, then sets the threshold (when the change set changes it), then removes the nodes
left out: the contract refuses a removal that would leave fewer members than the threshold, and
this order never does (docs/runbooks/oracle-committee.md). Before anything is proposed, every
node to admit must be registered by its operator, with at least ``minStake`` bonded and not
unbonding (what ``admit`` checks), and the threshold after the vote must not exceed the members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wattnet.errors import ConfigError
from wattnet.governance.table import COMMITTEE, Call

KEY = "committee.members"
THRESHOLD = "committee.threshold"
ADMIT, REMOVE = "admit(address)", "remove(address)"
MAX_MEMBERS = 31

# A node as OracleCommittee.nodeOf returns it: (operator, stake wei, unbondingAt, member).
NodeOf = Callable[[str], tuple[str, int, int, bool]]


def parse_members(value: Any, source: str) -> list[str]:
    """The proposed membership: unique node addresses, checksummed and sorted."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_MEMBERS:
        raise ConfigError(f"{source}: {KEY} must be a list of 1..{MAX_MEMBERS} node addresses "
                          f"(the whole committee after the vote), got {value!r}")
    bad = [v for v in value if not isinstance(v, str) or not is_address(v)]
    if bad:
        raise ConfigError(f"{source}: {KEY} lists {bad[0]!r}, which is not an address")
    members = [to_checksum_address(v) for v in value]
    if len(set(members)) != len(members):
        raise ConfigError(f"{source}: {KEY} lists a node twice")
    return sorted(members, key=lambda a: int(a, 16))


def member_calls(proposed: Sequence[str], current: Sequence[str], threshold: int,
                 min_stake: int, node_of: NodeOf, source: str) -> tuple[list[Call], list[Call]]:
    """(admissions, removals) moving ``current`` to ``proposed``; ``threshold``: k after the
    vote. Refuses in one line what ``admit`` or the threshold rule would refuse at execution."""
    if threshold > len(proposed):
        raise ConfigError(f"{source}: the threshold {threshold} exceeds the {len(proposed)} "
                          f"members after the vote; lower {THRESHOLD} or admit more nodes")
    now = {a.lower() for a in current}
    admits = [a for a in proposed if a.lower() not in now]
    for node in admits:
        operator, stake, unbonding_at, _ = node_of(node)
        if int(operator, 16) == 0:
            raise ConfigError(f"{source}: node {node} is not registered: its operator calls "
                              "register(nodeKey, amount, proof) first")
        if unbonding_at:
            raise ConfigError(f"{source}: node {node} is unbonding (it resigned or was slashed)")
        if stake < min_stake:
            raise ConfigError(f"{source}: node {node} has {stake} wei bonded, below the "
                              f"committee's minStake {min_stake}")
    keep = {a.lower() for a in proposed}
    removes = [a for a in current if a.lower() not in keep]
    return ([Call(COMMITTEE, ADMIT, (a,), (KEY,)) for a in admits],
            [Call(COMMITTEE, REMOVE, (a,), (KEY,)) for a in removes])
