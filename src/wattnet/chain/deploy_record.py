"""The resumable deployment record: every completed step, written as it completes.

A governed deploy (:mod:`wattnet.chain.deploy_plan`) keeps one :class:`Recorder`. Each contract
creation is recorded twice: as *pending* (the address it will get, from the deployer's nonce)
right before the transaction is sent, and as *done* (address, tx hash, block, constructor
arguments) right after its receipt. Each other transaction is recorded when mined. A re-run reads
the record back: done steps are skipped after checking that their contracts still have code on
this chain id, and a pending creation whose predicted address has code is adopted, so a crash at
any point never deploys a second copy.

The file is ``deployments/<ecosystem>/<network>.json`` (:mod:`wattnet.chain.deployments`), or
none at all for in-memory deploys in tests.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import rlp
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.deployments import Deployment, load_deployment_file, save_deployment
from wattnet.errors import ChainError, WattNetError

log = logging.getLogger(__name__)

ENV_CRASH = "WATTNET_DEPLOY_CRASH"  # test hook: "<step>" crashes right after recording it,
# "sent:<step>" right after sending its transaction, before recording it


class DeployCrash(WattNetError, RuntimeError):
    """Raised at the crash point named by ``$WATTNET_DEPLOY_CRASH`` (tests of resumption)."""


def create_address(sender: str, nonce: int) -> str:
    """The address a contract created by ``sender`` with ``nonce`` gets (CREATE)."""
    raw = keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:]
    return to_checksum_address(raw)


def crash_point(name: str) -> None:
    if os.environ.get(ENV_CRASH) == name:
        raise DeployCrash(f"crash injected at {name} (${ENV_CRASH}); re-run to resume")


class Recorder:
    """The record of one deploy on one chain; ``path=None`` keeps it in memory only."""

    def __init__(self, ecosystem: str, network: str, chain_id: int, path: Path | None,
                 *, compiler: str = "", git_commit: str = "", deployer: str = "") -> None:
        self.ecosystem, self.network, self.chain_id, self.path = ecosystem, network, chain_id, path
        self.compiler, self.git_commit, self.deployer = compiler, git_commit, deployer
        self.contracts: dict[str, str] = {}
        self.tx_hashes: dict[str, str] = {}
        self.blocks: dict[str, int] = {}
        self.constructor_args: dict[str, list[Any]] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        self.status = "in-progress"

    # ---------------------------------------------------------------- loading
    @classmethod
    def resume(cls, path: Path, chain_id: int, code_at: Any, *, fresh_if_gone: bool,
               **kw: Any) -> Recorder:
        """The record at ``path`` if it belongs to this chain, else a new one.

        ``code_at(address) -> bytes``. A record of another chain id, or one whose contracts have
        no code here, is an error, except that with ``fresh_if_gone`` (local networks: a new
        anvil) a record none of whose contracts has code is replaced by a new one.
        """
        rec = cls(kw.pop("ecosystem"), kw.pop("network"), chain_id, path, **kw)
        if not path.is_file():
            return rec
        old = load_deployment_file(path)
        if old.chain_id != chain_id:
            raise ChainError(
                f"{path} records chain id {old.chain_id} but the connected chain is {chain_id}; "
                "connect to the right network or move the record away"
            )
        # only what this deploy created: an external address (a stablecoin) not yet used may
        # be wrong and be replaced on this run (wattnet.chain.deploy_inputs)
        ours = {n: a for n, a in old.contracts.items() if f"deploy:{n}" in old.steps}
        gone = [n for n, a in ours.items() if not code_at(a)]
        if gone and len(gone) == len(ours) and fresh_if_gone:
            log.info("no recorded contract exists on this chain any more: starting afresh")
            return rec
        if old.status != "complete" and old.deployer and rec.deployer \
                and old.deployer.lower() != rec.deployer.lower():
            raise ChainError(
                f"{path}: this deploy was started by {old.deployer}, which holds the roles the "
                f"remaining steps need; resume with that deployer, not {rec.deployer}"
            )
        if gone:
            raise ChainError(
                f"{path}: recorded {', '.join(sorted(gone))} at {ours[gone[0]]} has no "
                f"code on chain {chain_id}; the record does not match this chain (wrong RPC URL, "
                "or a reset node): fix the RPC URL or move the record away"
            )
        rec.contracts, rec.tx_hashes = dict(old.contracts), dict(old.tx_hashes)
        rec.blocks, rec.constructor_args = dict(old.blocks), dict(old.constructor_args)
        rec.steps = {k: dict(v) for k, v in old.steps.items()}
        rec.status = old.status
        rec.deployer = old.deployer or rec.deployer  # checks look at who held the roles
        return rec

    # ---------------------------------------------------------------- steps
    def step(self, name: str) -> dict[str, Any] | None:
        return self.steps.get(name)

    def done(self, name: str) -> bool:
        return self.steps.get(name, {}).get("status") == "done"

    def pending_create(self, name: str, address: str, nonce: int, args: list[Any]) -> None:
        self.steps[f"deploy:{name}"] = {"status": "pending", "address": address, "nonce": nonce}
        self.constructor_args[name] = args
        self.save()

    def record_create(self, name: str, address: str, tx_hash: str, block: int,
                      args: list[Any]) -> None:
        self.contracts[name] = to_checksum_address(address)
        if tx_hash:
            self.tx_hashes[name] = tx_hash
        self.blocks[name] = block
        self.constructor_args[name] = args
        self.steps[f"deploy:{name}"] = {"status": "done", "address": self.contracts[name],
                                        "tx": tx_hash, "block": block}
        self.save()
        crash_point(f"deploy:{name}")

    def record_tx(self, name: str, tx_hash: str, block: int) -> None:
        """A mined transaction; ``tx_hash=""``: the chain already showed the step's effect
        (sent before a crash, or nothing to do), so nothing was sent."""
        self.steps[name] = ({"status": "done", "tx": tx_hash, "block": block} if tx_hash
                            else {"status": "done", "tx": "", "note": "already on chain"})
        self.save()
        crash_point(name)

    def finish(self) -> None:
        self.status = "complete"
        self.save()

    # ---------------------------------------------------------------- output
    def deployment(self) -> Deployment:
        return Deployment(
            ecosystem=self.ecosystem, network=self.network, chain_id=self.chain_id,
            block=min(self.blocks.values(), default=0), contracts=dict(self.contracts),
            tx_hashes=dict(self.tx_hashes), compiler=self.compiler, git_commit=self.git_commit,
            blocks=dict(self.blocks), constructor_args=dict(self.constructor_args),
            steps={k: dict(v) for k, v in self.steps.items()}, status=self.status,
            deployer=self.deployer,
        )

    def save(self) -> None:
        if self.path is not None:
            save_deployment(self.deployment(), path=self.path)
