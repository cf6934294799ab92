"""`wattnet params ... --safe`: a 2-of-3 Safe (the real contracts of @safe-global/safe-contracts,
deployed on anvil) as the guardian and as a proposer. Without owner keys a step is exported
(Transaction Builder batch, calldata, SafeTx hash) and nothing is sent; with two owners' keys it
executes through the Safe; one signature short is refused with one line and changes nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ape
import pytest
from eth_account.messages import encode_typed_data
from params_stack import GovStack, change_set, governed_stack, ok, refused, travel_to
from safe_stack import ZERO, deploy_safe

from wattnet.governance.client import ChainView
from wattnet.governance.proposals import find
from wattnet.governance.safe import SafeTx, pack_signatures, safe_tx_hash, typed_data
from wattnet.params import WEI_PER_WATT

SAFE_WATT = 10_000_000  # above the 8 M quorum: the Safe alone passes its proposals
SIGNERS = ("--safe-signers", "test:2,test:4")


@pytest.fixture(scope="module")
def stack(project: Any, accounts: Any, chain: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GovStack, Any]]:
    safe = deploy_safe(accounts[0], [accounts[2], accounts[3], accounts[4]], 2)
    with governed_stack(project, accounts, chain, tmp_path_factory.mktemp("root"),
                        guardian=safe) as s:
        s.gov.watt.transfer(safe, SAFE_WATT * WEI_PER_WATT, sender=s.voter)
        yield s, safe


def _nonce(safe: Any) -> int:
    return int(safe.call_view_method("nonce"))  # `nonce` is shadowed on Ape contracts


def _pid(out: str) -> str:
    return re.findall(r"proposal id: (\d+)", out)[0]


def _delegated(s: GovStack, safe: Any, chain: Any) -> None:
    """The Safe's WATT delegated to itself (through the Safe), counted from the next block."""
    if int(s.gov.watt.getVotes(safe.address)) == 0:
        ok("params", "delegate", "--safe", safe.address, *SIGNERS)
        travel_to(chain, int(chain.blocks.head.timestamp) + 2)


def test_safe__export_without_owner_keys_sends_nothing(stack: tuple[GovStack, Any],
                                                       chain: Any, tmp_path: Path) -> None:
    s, safe = stack
    out_file = tmp_path / "batch.json"
    out = ok("params", "delegate", "--safe", safe.address, "--safe-out", str(out_file))
    batch = json.loads(out_file.read_text())
    assert batch["version"] == "1.0" and batch["chainId"] == str(chain.chain_id)
    assert batch["meta"]["createdFromSafeAddress"] == safe.address
    (tx,) = batch["transactions"]
    data = "0x5c19a95c" + safe.address[2:].lower().rjust(64, "0")  # delegate(address)
    assert tx == {"to": s.gov.watt.address, "value": "0", "data": data}
    assert f"data: {data}" in out and "2 of 3 owners" in out
    shown = re.findall(r"safeTxHash \(nonce 0\): (0x[0-9a-f]{64})", out)[0]
    on_chain = safe.getTransactionHash(tx["to"], 0, data, 0, 0, 0, 0, ZERO, ZERO, 0)
    assert shown == "0x" + bytes(on_chain).hex()
    assert int(s.gov.watt.getVotes(safe.address)) == 0 and _nonce(safe) == 0


def test_safe__one_signature_short_is_refused(stack: tuple[GovStack, Any],
                                              accounts: Any) -> None:
    s, safe = stack
    line = refused("params", "delegate", "--safe", safe.address, "--safe-signers", "test:2")
    assert f"Safe {safe.address} needs 2 of its 3 owners' signatures, got 1" in line
    line = refused("params", "delegate", "--safe", safe.address, "--safe-signers",
                   "test:2,test:2")
    assert "got 1" in line  # one owner twice is one signature
    line = refused("params", "delegate", "--safe", safe.address, "--safe-signers",
                   "test:2,test:7")
    assert f"{accounts[7].address} is not an owner of Safe {safe.address}" in line
    line = refused("params", "pause", "--safe", s.gov.watt.address, *SIGNERS)
    assert "no Safe there" in line
    # The Safe contract agrees: one valid owner signature is not enough (GS020).
    data = bytes.fromhex("5c19a95c" + safe.address[2:].rjust(64, "0"))
    tx = SafeTx(s.gov.watt.address, data, _nonce(safe))
    sig = accounts[2].sign_message(encode_typed_data(
        full_message=typed_data(chain_id(s), safe.address, tx)))
    one = pack_signatures([(accounts[2].address, int(sig.v), bytes(sig.r), bytes(sig.s))])
    with ape.reverts("GS020"):
        safe.execTransaction(tx.to, 0, data, 0, 0, 0, 0, ZERO, ZERO, one, sender=accounts[0])
    assert safe_tx_hash(chain_id(s), safe.address, tx) == bytes(safe.getTransactionHash(
        tx.to, 0, data, 0, 0, 0, 0, ZERO, ZERO, tx.nonce))
    assert int(s.gov.watt.getVotes(safe.address)) == 0 and _nonce(safe) == 0


def chain_id(s: GovStack) -> int:
    return s.gov.deployment.chain_id


def test_safe__proposer_proposes_votes_queues_executes_and_cancels(
        stack: tuple[GovStack, Any], chain: Any, networks: Any, tmp_path: Path) -> None:
    s, safe = stack
    g = s.gov
    _delegated(s, safe, chain)
    assert int(g.watt.getVotes(safe.address)) == SAFE_WATT * WEI_PER_WATT
    safe_args = ("--safe", safe.address, *SIGNERS)
    change = change_set(tmp_path, "a Safe proposes", {"settlement.operator_share_bps": 7900})
    pid = _pid(ok("params", "propose", change, *safe_args))
    assert find(ChainView(networks.provider), int(pid)).proposer == safe.address
    travel_to(chain, int(g.governor.proposalSnapshot(int(pid))) + 1)
    ok("params", "vote", pid, "for", *safe_args)
    assert g.governor.hasVoted(int(pid), safe.address)
    travel_to(chain, int(g.governor.proposalDeadline(int(pid))) + 1)
    ok("params", "queue", pid, *safe_args)
    travel_to(chain, int(g.governor.proposalEta(int(pid))))
    assert g.credits.operatorShareBps() == 8000
    ok("params", "execute", pid, "--safe", safe.address, "--safe-signers", "test:3,test:4")
    assert g.credits.operatorShareBps() == 7900
    other = change_set(tmp_path, "a Safe cancels", {"staking.unbonding_delay": "5h"})
    pid = _pid(ok("params", "propose", other, *safe_args))
    assert "cancelled by its proposer" in ok("params", "cancel", pid, *safe_args)
    assert g.governor.state(int(pid)) == 2  # Canceled


def test_safe__guardian_pauses_and_proposes_the_unpause(stack: tuple[GovStack, Any],
                                                        chain: Any) -> None:
    s, safe = stack
    g = s.gov
    _delegated(s, safe, chain)
    safe_args = ("--safe", safe.address, *SIGNERS)
    assert "lacks PAUSER_ROLE" in refused("params", "pause", "--account", "test:8")
    assert "not paused" in refused("params", "unpause", "--reason", "x", *safe_args)
    assert "EnergyCredits paused by " + safe.address in ok("params", "pause", *safe_args)
    assert g.credits.paused()
    assert "already paused" in refused("params", "pause", *safe_args)
    pid = _pid(ok("params", "unpause", "--reason", "incident closed", *safe_args))
    travel_to(chain, int(g.governor.proposalSnapshot(int(pid))) + 1)
    ok("params", "vote", pid, "for", *safe_args)
    travel_to(chain, int(g.governor.proposalDeadline(int(pid))) + 1)
    ok("params", "queue", pid, "--account", "test:0")  # anyone may queue and execute
    travel_to(chain, int(g.governor.proposalEta(int(pid))))
    ok("params", "execute", pid, "--account", "test:0")
    assert not g.credits.paused()
