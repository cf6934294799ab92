"""The DAO page's reads: every governed parameter (``wattnet.governance.table``: where it lives,
its getter, its bounds) with its value on chain, and the governor's proposals with their state,
votes, quorum, timeline and decoded calls (and the raw calls, which the browser sends back to
queue or execute them). Proposals come from the governor's ProposalCreated logs: the event
index's when the server has one, else scanned since the deployment block; their state, votes
and quorum are read from the governor at the current block."""

from __future__ import annotations

from typing import Any

from web3.exceptions import Web3Exception

from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError
from wattnet.governance.client import STATES
from wattnet.governance.records import describe_calldata, short_id
from wattnet.governance.table import (
    GOVERNOR,
    PARAMS,
    Param,
    Unit,
    decode_getter,
    getter_call,
)
from wattnet.indexer.logs import plain


def _plain_args(args: Any) -> dict[str, Any]:
    return {k: plain(v) for k, v in dict(args).items()}


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _reading(what: str) -> Any:
    return ChainError(f"reading {what} from the chain failed")


def read_param(client: ChainClient, p: Param) -> Any:
    """A governed parameter's value on chain, in the params file's unit."""
    try:
        raw = client.w3.eth.call({"to": client.w3.to_checksum_address(
            client.deployment.address(p.contract)), "data": getter_call(p)})
    except (Web3Exception, OSError, ValueError) as exc:
        raise _reading(f"{p.contract}.{p.getter}") from exc
    return decode_getter(p, bytes(raw))


def parameters(client: ChainClient) -> list[dict[str, Any]]:
    """Each governed parameter of a deployed contract: key, contract, setter, value and bounds
    (in the params file's units)."""
    deployed = client.deployment.contracts
    out = []
    for p in PARAMS:
        if p.contract not in deployed:
            continue
        out.append({"key": p.key, "contract": p.contract, "setter": p.setter.split("(")[0],
                    "value": str(read_param(client, p)),
                    "unit": "" if p.unit is Unit.CHOICE else str(p.unit),
                    "bounds": p.bounds, "note": p.note})
    return out


def proposals(client: ChainClient, created: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The governor's settings and its proposals, newest first; ``created``: the
    ProposalCreated arguments from the index (newest first), else the logs are scanned."""
    gov = client.contract(GOVERNOR)
    f = gov.functions
    try:
        clock = int(f.clock().call())
        if created is None:
            logs = gov.events.ProposalCreated.get_logs(from_block=client.deployment.block)
            created = [_plain_args(log["args"]) for log in reversed(list(logs))]
        rows = []
        for a in created:
            pid = int(a["proposalId"])
            snapshot = int(f.proposalSnapshot(pid).call())
            against, for_, abstain = (str(int(v)) for v in f.proposalVotes(pid).call())
            rows.append({
                "id": str(pid), "short_id": short_id(pid), "proposer": a["proposer"],
                "description": a["description"], "state": STATES[int(f.state(pid).call())],
                "vote_start": snapshot, "vote_end": int(f.proposalDeadline(pid).call()),
                "eta": int(f.proposalEta(pid).call()),
                "votes": {"for": for_, "against": against, "abstain": abstain},
                "quorum": str(int(f.quorum(min(snapshot, clock - 1)).call())),
                "calls": [describe_calldata(client.deployment.contracts, t, _bytes(c))
                          for t, c in zip(a["targets"], a["calldatas"], strict=True)],
                "targets": list(a["targets"]), "values": [str(v) for v in a["values"]],
                "calldatas": ["0x" + _bytes(c).hex() for c in a["calldatas"]],
            })
        return {"governor": gov.address, "clock": clock,
                "voting_delay": int(f.votingDelay().call()),
                "voting_period": int(f.votingPeriod().call()),
                "proposal_threshold": str(int(f.proposalThreshold().call())),
                "proposals": rows}
    except (Web3Exception, OSError, ValueError) as exc:
        raise _reading("the governor's proposals") from exc
