"""Issue 13 on anvil: three oracle nodes (``wattnet oracle run`` processes, each with its own
database and key, nothing shared but HTTP and the chain) settle through the ledger's
``settleSigned`` with k = 2 of the members OracleCommittee published; the oracle's own account
has lost ORACLE_ROLE, so every payment passes the committee.

- receipts posted to only some nodes still settle: nodes pass on what they accept, and a node
  fetches what it missed from a peer, judging it with its own pipeline before it votes;
- ``kill -9`` of a node in the middle of a run: every session settles exactly once (each
  driver is charged exactly the cost of its sessions) and the node catches up when restarted;
- a member that signs garbage gets no votes for it (and its signature proves it bad), and one
  that proposes two batches in one round is reported by an honest node and slashed by anyone
  with the node's evidence;
- a physically impossible receipt every node quarantines becomes a forfeit of the station's
  epoch rewards and a freeze of its operator, each signed by k nodes with the evidence's hash
  and relayed by anyone.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import ape
import pytest
from e2e_stack import OracleProcess
from eth_account import Account
from eth_utils.crypto import keccak

from conftest import ORACLE_PASSPHRASE, PASSPHRASE_ENV
from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.committee import (
    batch_digest,
    batch_domain,
    batch_signatures,
    committee_domain,
    node_digest,
)
from wattnet.chain.deploy import WAD
from wattnet.chain.deployments import Deployment
from wattnet.chain.eip712 import sign_digest, sign_receipt
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.domain import SignedReceipt
from wattnet.econ.units import EPOCH_LENGTH
from wattnet.oracle.committee import Proposal

K = 2
STAKE = 1_000 * WAD
WEEK = 7 * 86_400


@pytest.fixture(scope="module")
def node_accounts(accounts: Any, governor: Any) -> list[Any]:
    """Three node keys with ether for their relays, in the committee's rotation order."""
    made = [accounts.generate_test_account() for _ in range(3)]
    for a in made:
        governor.transfer(a, 10 * 10**18)
    return sorted(made, key=lambda a: int(a.address, 16))


@pytest.fixture(scope="module")
def committee(project: Any, settlement: Any, watt: Any, treasury: Any, governor: Any,
              oracle: Any, node_accounts: list[Any], chain: Any) -> Iterator[Any]:
    c = project.OracleCommittee.deploy(watt, settlement, treasury, governor, STAKE, WEEK, 1_000,
                                       sender=governor)
    settlement.grantRole(roles.COMMITTEE_ROLE, c, sender=governor)  # it publishes its members
    settlement.revokeRole(roles.ORACLE_ROLE, oracle, sender=governor)  # the committee alone
    domain = committee_domain(chain.chain_id, c.address)
    watt.transfer(oracle, 3 * STAKE, sender=treasury)
    watt.approve(c, 3 * STAKE, sender=oracle)
    for a in node_accounts:
        proof = sign_digest(_private(a), node_digest(domain, oracle.address))
        c.register(a.address, STAKE, proof, sender=oracle)
        c.admit(a.address, sender=governor)
    c.setThreshold(K, sender=governor)
    yield c
    settlement.grantRole(roles.ORACLE_ROLE, oracle, sender=governor)


def _private(account: Any) -> bytes:
    key = account.private_key
    return bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else bytes(key)


def _keystore(path: Path, account: Any) -> Path:
    path.write_text(json.dumps(Account.encrypt(account.private_key, ORACLE_PASSPHRASE,
                                               kdf="scrypt", iterations=2**2)))
    return path


def _nodes(root: Path, deployment: Deployment, committee: Any, accounts: list[Any],
           batcher: dict[str, Any], extra_peers: tuple[str, ...] = ()) -> list[OracleProcess]:
    procs = [OracleProcess(root / f"node{i}", {}, {}) for i in range(len(accounts))]
    for proc, account in zip(procs, accounts, strict=True):
        proc.workdir.mkdir(parents=True)
        proc.config = {
            "chain_id": deployment.chain_id,
            "settlement_contract": deployment.address("EnergyCredits"),
            "database": str(proc.workdir / "oracle.db"),
            "chain": "wattnet.oracle.committee_web3:committee_chain",
            "directory": "wattnet.oracle.chain_web3:station_directory",
            "keystore": str(_keystore(proc.workdir / "key.json", account)),
            "keystore_passphrase_env": PASSPHRASE_ENV,
            # the test chain's clock runs days ahead of the wall clock the oracle judges by
            "plausibility": {"future_skew_s": 10**8},
            "batcher": {"min_batch": 1, "max_batch": 50, "max_age_s": 0, "confirmations": 1,
                        "poll_interval_s": 0.2, "revert_backoff_s": 0.5,
                        "max_revert_backoff_s": 2, "resubmit_after_s": 10, **batcher},
            "committee": {"contract": committee.address, "round_s": 1.0,
                          "request_timeout_s": 3.0, "finding_sweep_s": 0.5,
                          "peers": [p.url for p in procs if p is not proc] + list(extra_peers)},
        }
    return procs


@pytest.fixture(scope="module")
def net(committee: Any, deployment: Deployment, node_accounts: list[Any],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[OracleProcess]]:
    procs = _nodes(tmp_path_factory.mktemp("committee"), deployment, committee, node_accounts,
                   {})
    for p in procs:
        p.start()
    yield procs
    for p in procs:
        p.stop()


@pytest.fixture(scope="module")
def sessions(create_station: Any, create_driver: Any, make_receipt: Any, domain: Any,
             chain: Any, fresh_account: Callable[[], Any]) -> Callable[[int], list[SignedReceipt]]:
    """``n`` signed receipts of fresh stations and drivers, within the settlement window."""
    operator = fresh_account()

    def make(n: int) -> list[SignedReceipt]:
        pairs = []
        for _ in range(0, n, 4):  # four sessions a station, one after the other
            station, driver = create_station(operator, certified=False), fresh_account()
            create_driver(driver)
            pairs.append((station, driver))
        chain.pending_timestamp += 7_200  # the sessions start after the tariffs exist
        out = []
        for i in range(n):
            station, driver = pairs[i // 4]
            r = make_receipt(station, driver, readings=bytes(32), energy_wh=2_000 + i,
                             duration=900, end=chain.pending_timestamp - 60 - 1_000 * (i % 4))
            out.append(SignedReceipt(r, sign_receipt(station.key, domain, r)))
        return out

    return make


@pytest.fixture(scope="module")
def fresh_account(accounts: Any, governor: Any) -> Callable[[], Any]:
    def make() -> Any:
        acct = accounts.generate_test_account()
        governor.transfer(acct, 10 * 10**18)
        return acct

    return make


def post(node: OracleProcess, receipts: list[SignedReceipt],
         want: tuple[str, ...] = ("accepted", "duplicate")) -> None:
    body = json.dumps([signed_to_json(s) for s in receipts]).encode()
    req = urllib.request.Request(node.url + "/v1/receipts:batch", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        results = json.loads(resp.read())["results"]
    # accepted, or duplicate: another node's gossip brought it first
    assert all(r.get("status") in want for r in results), results


def settled(settlement: Any, receipts: list[SignedReceipt]) -> int:
    return sum(bool(settlement.isSettled(s.receipt.station_id, s.receipt.session_id))
               for s in receipts)


def wait(until: Callable[[], bool], what: str, nodes: list[OracleProcess],
         timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until():
            return
        time.sleep(0.3)
    logs = "\n".join(f"--- {p.workdir.name}\n{p.log()[-2500:]}" for p in nodes)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def waiting(node: OracleProcess) -> int:
    c = node.counts()
    return sum(c.get(s, 0) for s in ("pending", "batched", "submitted", "confirming"))


def charged(credits: Any, credit_id: int, receipts: list[SignedReceipt],
            before: dict[str, int]) -> dict[str, int]:
    """What each driver was charged since ``before`` (balances), against what it owes."""
    return {d: before[d] - credits.balanceOf(d, credit_id) for d in before}


def owed(receipts: list[SignedReceipt]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in receipts:
        out[s.receipt.driver] = out.get(s.receipt.driver, 0) + s.receipt.cost
    return out


def test_committee__receipts_a_node_missed_settle_once_through_k_of_n(
        net: list[OracleProcess], sessions: Any, settlement: Any, credits: Any,
        credit_id: int, committee: Any, chain: Any, node_accounts: list[Any]) -> None:
    receipts = sessions(12)
    before = {d: credits.balanceOf(d, credit_id) for d in owed(receipts)}
    start_nonce, start_block = settlement.batchNonce(), chain.blocks.head.number
    post(net[0], receipts)
    post(net[1], receipts)
    post(net[2], receipts[:6])  # the third node missed half of them
    wait(lambda: settled(settlement, receipts) == 12, "12 settlements", net)
    assert charged(credits, credit_id, receipts, before) == owed(receipts)
    signed = list(settlement.BatchSigned.range(start_block, chain.blocks.head.number + 1))
    relayed = list(settlement.BatchSettled.range(start_block, chain.blocks.head.number + 1))
    assert sum(e.settled for e in relayed) == 12 and settlement.batchNonce() > start_nonce
    assert len(signed) == len(relayed) == settlement.batchNonce() - start_nonce
    nodes = {a.address for a in node_accounts}
    assert all(e.submitter in nodes for e in relayed)  # relayed by the nodes themselves
    wait(lambda: all(waiting(p) == 0 for p in net), "every node to see them settled", net)
    assert [p.counts().get("settled", 0) for p in net][:2] == [12, 12]


def test_committee__kill_9_mid_run_every_session_settles_once_and_the_node_catches_up(
        net: list[OracleProcess], sessions: Any, settlement: Any, credits: Any,
        credit_id: int) -> None:
    first, second = sessions(16), sessions(16)
    everything = first + second
    before = {d: credits.balanceOf(d, credit_id) for d in owed(everything)}
    for node in net:
        post(node, first)
    victim = net[0]
    assert victim.proc is not None
    victim.proc.send_signal(signal.SIGKILL)  # mid-run: its batches may be voted or in flight
    victim.proc.wait()
    for node in net[1:]:
        post(node, second)
    wait(lambda: settled(settlement, everything) == 32, "32 settlements with a node dead",
         net[1:])
    victim.proc = None
    victim.start()
    post(victim, second)  # the gateway's outbox delivers what the dead node missed
    wait(lambda: waiting(victim) == 0, "the restarted node to catch up", net)
    assert victim.counts().get("settled", 0) >= 32
    assert charged(credits, credit_id, everything, before) == owed(everything)


class _Rogue(BaseHTTPRequestHandler):
    """What a rogue member serves its peers: receipts of its choosing."""

    receipts: dict[str, dict[str, Any]] = {}

    def do_GET(self) -> None:
        found = self.receipts.get(self.path)
        body = json.dumps(found or {"error": "unknown"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # the batch form: {"keys": [[station, session], ...]}
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["keys"]
        found = [r for s, n in asked if (r := self.receipts.get(f"/v1/receipts/{s}/{n}"))]
        body = json.dumps({"receipts": found}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


def test_committee__an_impossible_session_becomes_a_k_signed_forfeit_and_freeze(
        net: list[OracleProcess], create_station: Any, make_receipt: Any, domain: Any,
        chain: Any, committee: Any, rewards: Any, staking: Any, registry: Any, governor: Any,
        fresh_account: Callable[[], Any], attacker: Any) -> None:
    for contract, role in ((registry, roles.ATTESTER_ROLE), (rewards, roles.FINDINGS_ROLE),
                           (staking, roles.FREEZER_ROLE)):
        contract.grantRole(role, committee, sender=governor)  # as the governed deploy does
    operator, driver = fresh_account(), fresh_account()
    station = create_station(operator, certified=False)
    chain.pending_timestamp += 7_200
    # 50 kWh in 15 minutes from a 22 kW station: every node quarantines it at ingest
    r = make_receipt(station, driver, readings=bytes(32), energy_wh=50_000, duration=900,
                     end=chain.pending_timestamp - 60)
    fraud = SignedReceipt(r, sign_receipt(station.key, domain, r))
    for p in net:
        post(p, [fraud], ("quarantined",))

    def signed() -> list[dict[str, Any]]:
        found = []
        for p in net:
            with urllib.request.urlopen(p.url + "/v1/committee/findings", timeout=10) as resp:
                found += json.loads(resp.read())["findings"]
        return found

    wait(lambda: {f["finding"]["kind"] for f in signed()} == {"forfeit", "freeze"},
         "a k-signed forfeit and freeze", net)
    relayer = fresh_account()  # anyone: no role, no stake
    epoch = (r.end_time - rewards.genesis()) // EPOCH_LENGTH
    for item in signed():
        f = item["tuple"]
        committee.act((f[0], f[1], int(f[2]), f[3], f[4], f[5]), item["signatures"],
                      sender=relayer)
    assert rewards.forfeited(epoch, station.station_id)
    assert staking.frozenUntil(operator) > chain.pending_timestamp
    with ape.reverts(committee.CommitteeFindingUsed):  # each executes once
        item = signed()[0]
        f = item["tuple"]
        committee.act((f[0], f[1], int(f[2]), f[3], f[4], f[5]), item["signatures"],
                      sender=attacker)


def test_committee__garbage_gets_no_votes_and_a_double_proposal_is_slashed(
        net: list[OracleProcess], sessions: Any, settlement: Any, committee: Any,
        node_accounts: list[Any], deployment: Deployment, attacker: Any, watt: Any,
        chain: Any, domain: Any, tmp_path: Path) -> None:
    for p in net:  # the honest pair comes back without proposing on its own
        p.stop()
    rogue_account = node_accounts[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rogue)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rogue_url = f"http://127.0.0.1:{server.server_port}"
    honest = _nodes(tmp_path, deployment, committee, node_accounts[:2],
                    {"min_batch": 1_000, "max_batch": 1_000, "max_age_s": 10**6}, (rogue_url,))
    try:
        for p in honest:
            p.start()
        good = sessions(2)
        forged_receipt = replace(good[0].receipt, session_id=999_001, energy_wh=3_000)
        forged = SignedReceipt(forged_receipt, sign_receipt(keccak(b"not the station"), domain,
                                                            forged_receipt))
        _Rogue.receipts = {f"/v1/receipts/0x{s.receipt.station_id.hex()}/"
                           f"{s.receipt.session_id}": signed_to_json(s)
                           for s in [*good, forged]}
        members = sorted(committee.members(), key=lambda a: int(a, 16))
        nonce = settlement.batchNonce()
        round_ = next(r for r in range(300, 400)
                      if members[(nonce + r) % 3] == rogue_account.address)
        cdomain = batch_domain(chain.chain_id, settlement.address)
        key = _private(rogue_account)

        def propose(batch: bytes, to: OracleProcess) -> tuple[int, dict[str, Any]]:
            sig = sign_digest(key, batch_digest(cdomain, nonce, round_, batch))
            body = json.dumps(Proposal(nonce, round_, batch, sig).to_json()).encode()
            req = urllib.request.Request(to.url + "/v1/committee/votes", data=body)
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        # Garbage: a receipt the station never signed. Both honest nodes fetch it, their
        # pipelines reject it, they refuse; the rogue's own signature is not enough.
        garbage = pack_batch([(forged.receipt, forged.signature)])
        for p in honest:
            status, answer = propose(garbage, p)
            assert status == 409 and "unknown here" in answer["error"], answer
        rogue_sig = sign_digest(key, batch_digest(cdomain, nonce, round_, garbage))
        with ape.reverts(settlement.SettlementTooFewSigners):
            settlement.settleSigned(garbage, nonce, round_, committee.committee(),
                                    batch_signatures({rogue_account.address: rogue_sig}),
                                    sender=attacker)
        # its signature on a receipt its station never signed is proof enough to slash it
        # (sent below for its equivocation instead: a stake is slashed once)
        committee.proveBadReceipt.call(rogue_account.address, nonce, round_, garbage,
                                       rogue_sig, 0, sender=attacker)
        assert not settlement.isSettled(forged.receipt.station_id, forged.receipt.session_id)

        # Two batches in one round: the first is voted for, the second refused and reported.
        a = pack_batch([(good[0].receipt, good[0].signature)])
        b = pack_batch([(good[1].receipt, good[1].signature)])
        assert propose(a, honest[0])[0] == 200
        status, answer = propose(b, honest[0])
        assert status == 409 and "already signed another batch" in answer["error"]
        with urllib.request.urlopen(honest[0].url + "/v1/committee/evidence") as resp:
            [proof] = json.loads(resp.read())["equivocations"]
        assert proof["node"] == rogue_account.address
        before = watt.balanceOf(attacker)
        committee.proveEquivocation(proof["node"], proof["nonce"], proof["round"],
                                    proof["hashA"], proof["sigA"], proof["hashB"],
                                    proof["sigB"], sender=attacker)
        assert watt.balanceOf(attacker) - before == STAKE // 10  # the bounty, from its stake
        assert rogue_account.address not in committee.members()
        assert committee.nodeOf(rogue_account.address).stake == 0
    finally:
        server.shutdown()
        for p in honest:
            p.stop()
