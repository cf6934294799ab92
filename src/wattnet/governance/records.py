"""Reading proposals back from the chain: a proposal's calls and description from its
ProposalCreated event, its state, and a status report with the calls decoded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from wattnet.governance.client import STATES, ChainView, GovernanceError
from wattnet.governance.members import ADMIT, REMOVE
from wattnet.governance.schedule import SETTER as SCHEDULE_SETTER
from wattnet.governance.table import SETTERS, arg_types, region_param, selector


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    proposer: str
    targets: tuple[str, ...]
    values: tuple[int, ...]
    calldatas: tuple[bytes, ...]
    description: str

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)


def state_of(view: ChainView, pid: int) -> str:
    return STATES[int(view.governor.state(pid))]


def _last_block_at(ts: int, lo: int, hi: int) -> int:
    """The last block in [lo, hi] with a timestamp <= ``ts`` (binary search; lo if none)."""
    from ape import chain

    while lo < hi:
        mid = (lo + hi + 1) // 2
        if int(chain.blocks[mid].timestamp) <= ts:
            lo = mid
        else:
            hi = mid - 1
    return lo


def find(view: ChainView, pid: int, chunk: int = 5_000) -> Proposal:
    """The proposal's calls and description, from its ProposalCreated event: searched backwards
    from the last block before voting started (the proposal was made at most the voting delay
    earlier), so a long-lived chain is not scanned from the deployment on."""
    from ape import chain

    gov = view.governor
    snapshot = int(gov.proposalSnapshot(pid))
    if snapshot == 0:
        raise GovernanceError(f"no proposal {pid} on the governor at {view.governor_address}")
    first = view.deployment.block
    stop = _last_block_at(snapshot, first, int(chain.blocks.head.number)) + 1
    while stop > first:
        start = max(first, stop - chunk)
        for log in gov.ProposalCreated.range(start, stop):
            args = log.event_arguments
            if int(args["proposalId"]) == pid:
                return Proposal(pid, str(args["proposer"]),
                                tuple(str(t) for t in args["targets"]),
                                tuple(int(v) for v in args["values"]),
                                tuple(bytes(c) for c in args["calldatas"]),
                                str(args["description"]))
        stop = start
    raise GovernanceError(f"proposal {pid} exists but its ProposalCreated event was not found "
                          f"after block {first}")


def short_id(pid: int) -> str:
    """The first 8 hex digits of a proposal id (ids are keccak hashes: as unique as git's)."""
    return f"{pid:064x}"[:8]


def all_proposals(view: ChainView, chunk: int = 5_000) -> list[Proposal]:
    """Every proposal made on the governor since the deployment, oldest first."""
    from ape import chain

    gov, head = view.governor, int(chain.blocks.head.number)
    out: list[Proposal] = []
    for start in range(view.deployment.block, head + 1, chunk):
        for log in gov.ProposalCreated.range(start, min(start + chunk, head + 1)):
            a = log.event_arguments
            out.append(Proposal(int(a["proposalId"]), str(a["proposer"]),
                                tuple(str(t) for t in a["targets"]),
                                tuple(int(v) for v in a["values"]),
                                tuple(bytes(c) for c in a["calldatas"]), str(a["description"])))
    return out


def resolve_id(view: ChainView, text: str) -> int:
    """A proposal id as typed: the full decimal id, or the start of its hex form (``params
    list`` shows 8 digits; ``0x`` or ``#`` in front allowed)."""
    raw = text.strip().lower().removeprefix("#").removeprefix("0x")
    if raw.isdigit() and len(raw) > 16:
        return int(raw)
    if not raw or len(raw) > 16 or any(c not in "0123456789abcdef" for c in raw):
        raise GovernanceError(f"{text!r} is not a proposal id (the full decimal id, or the short "
                              "id `wattnet params list` shows)")
    found = [p.id for p in all_proposals(view) if f"{p.id:064x}".startswith(raw)]
    if len(found) != 1:
        why = "no proposal" if not found else f"{len(found)} proposals"
        raise GovernanceError(f"{why} with a short id starting {raw!r} on the governor at "
                              f"{view.governor_address}; see `wattnet params list`")
    return found[0]


def describe_call(view: ChainView, target: str, data: bytes) -> str:
    """``Contract.setter(args)`` for a call of a proposal."""
    return describe_calldata(view.deployment.contracts, target, data)


def describe_calldata(contracts: Mapping[str, str], target: str, data: bytes) -> str:
    """``Contract.setter(args)`` for a call to ``target``, named from ``contracts`` (deployment
    name -> address)."""
    names = {a.lower(): n for n, a in contracts.items()}
    name = names.get(target.lower(), target)
    sigs = [s.signature for s in SETTERS] + [region_param("u").setter, SCHEDULE_SETTER, ADMIT,
                                             REMOVE]
    for sig in sigs:
        if data[:4] == selector(sig):
            args = decode(arg_types(sig), data[4:])
            if sig == SCHEDULE_SETTER:
                return f"{name}.setSchedule({len(args[1])} phases from epoch {args[0]})"
            shown = ", ".join(
                a.rstrip(b"\x00").decode() if isinstance(a, bytes) else str(a) for a in args)
            return f"{name}.{sig.split('(')[0]}({shown})"
    return f"{name} 0x{data.hex()}"


def status(view: ChainView, pid: int) -> dict[str, Any]:
    gov, now = view.governor, view.now()
    p = find(view, pid)
    against, for_, abstain = (int(v) for v in gov.proposalVotes(pid))
    snapshot = int(gov.proposalSnapshot(pid))
    quorum = int(gov.quorum(min(snapshot, int(gov.clock()) - 1)))
    return {
        "id": pid, "short_id": short_id(pid), "state": state_of(view, pid), "proposer": p.proposer,
        "description": p.description, "now": now,
        "vote_start": snapshot, "vote_end": int(gov.proposalDeadline(pid)),
        "eta": int(gov.proposalEta(pid)),
        "votes": {"for": for_, "against": against, "abstain": abstain}, "quorum": quorum,
        "calls": [describe_call(view, t, c) for t, c in zip(p.targets, p.calldatas, strict=True)],
    }
