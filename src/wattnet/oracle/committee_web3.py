"""The oracle as a committee node over web3: batches settle through the ledger's
``EnergyCredits.settleSigned`` with the members' votes and the committee the OracleCommittee
published, and the node reads the committee (``CommitteeView``).

Config factory (``chain`` in oracle.json, with a ``committee`` section):
``wattnet.oracle.committee_web3:committee_chain``. The oracle's keystore is the node key: it
signs votes and pays for the relays it sends (anyone may relay; the node relays its own).
"""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from wattnet.chain.committee import batch_domain, committee_domain, parse_committee
from wattnet.chain.deployments import load_abi
from wattnet.chain.eip712 import sign_digest
from wattnet.chain.web3_client import ChainClient
from wattnet.oracle.chain_web3 import Web3SettlementChain, client_for, load_account
from wattnet.oracle.committee import CommitteeShort, Proposer
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.errors import OracleConfigError, SettlementWouldRevert
from wattnet.oracle.reverts import RevertCause, RevertKind, error_table

_BATCH_NONCE = "0x" + keccak(b"batchNonce()")[:4].hex()
MEMBERS_TTL_S = 5.0  # admissions and removals are governance votes: minutes apart at least
VOTE_GAS = 8_000  # ecrecover and the member lookup, per signature, in the no-estimate bound
MAX_VOTES_GAS = 31 * VOTE_GAS


class CommitteeSettlementChain(Web3SettlementChain):
    """``SettlementChain`` whose settlements are committee relays; also a ``CommitteeView``."""

    extra_gas = MAX_VOTES_GAS

    def __init__(self, client: ChainClient, account: LocalAccount, committee: str, *,
                 estimate_gas: bool = True) -> None:
        super().__init__(client, account, estimate_gas=estimate_gas)
        self.committee = client.w3.eth.contract(address=client.w3.to_checksum_address(committee),
                                                abi=load_abi("OracleCommittee", client.root))
        self.address = account.address
        self.domain = committee_domain(client.deployment.chain_id, str(self.committee.address))
        self.batch_domain = batch_domain(client.deployment.chain_id, str(self.contract.address))
        self._errors = error_table([*self.contract.abi, *self.committee.abi])
        self._members: tuple[float, list[str], int] | None = None
        self._genesis: int | None = None
        self.proposer: Proposer | None = None

    # ---- CommitteeView ----
    def committee_nonce(self) -> int:
        """Read at every batcher step: a raw ``eth_call`` (web3's call path cost a node 6-13 %
        of its CPU at the simulation's 20 steps a second)."""
        to = str(self.contract.address)
        return int(str(self._rpc_batch([("eth_call", [{"to": to, "data": _BATCH_NONCE},
                                                       "latest"])])[0]), 16)

    def _membership(self) -> tuple[list[str], int]:
        now = time.monotonic()
        if self._members is None or now - self._members[0] >= MEMBERS_TTL_S:
            threshold, members = parse_committee(bytes(self.committee.functions.committee().call()))
            self._members = (now, members, threshold)
        return self._members[1], self._members[2]

    def committee_members(self) -> list[str]:
        return self._membership()[0]

    def committee_threshold(self) -> int:
        return self._membership()[1]

    def sign_digest(self, digest: bytes) -> bytes:
        return sign_digest(bytes(self.account.key), digest)

    def rewards_genesis(self) -> int:
        """RewardsEngine.genesis (immutable): where epochs are counted from."""
        if self._genesis is None:
            rewards = self.w3.eth.contract(address=self.contract.functions.rewards().call(),
                                           abi=load_abi("RewardsEngine", self.client.root))
            self._genesis = int(rewards.functions.genesis().call())
        return self._genesis

    # ---- settlement through the committee ----
    def may_propose(self) -> bool:
        return self.proposer is not None and self.proposer.may_propose()

    def _settle_call(self, packed: bytes) -> tuple[str, str]:
        if self.proposer is None:
            raise OracleConfigError("committee chain used before the node was wired")
        try:
            agreed, nonce, round_, votes = self.proposer.collect(packed)
            if self.committee_nonce() != nonce:  # another node's batch took it meanwhile
                raise CommitteeShort(f"nonce {nonce} was taken while the votes came in")
        except CommitteeShort as exc:
            cause = RevertCause(RevertKind.COMMITTEE, str(exc))
            raise SettlementWouldRevert(f"committee: {exc}", cause) from exc
        # The committee as published now (a rotation since the votes came in shows here; the
        # votes of members still in it keep counting, the batch is not stranded).
        committee = bytes(self.committee.functions.committee().call())
        data: Any = self.contract.encode_abi("settleSigned",
                                             [agreed, nonce, round_, committee, votes])
        return str(self.contract.address), str(data)


def committee_chain(config: OracleConfig) -> CommitteeSettlementChain:
    """Factory for ``chain``: the deployment's EnergyCredits through ``committee.contract``."""
    if config.committee is None:
        raise OracleConfigError("committee_chain needs a `committee` section in the config")
    return CommitteeSettlementChain(client_for(config), load_account(config),
                                    config.committee.contract, estimate_gas=config.estimate_gas)
