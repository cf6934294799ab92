"""A plain-web3 client for services (oracle, gateway): one RPC endpoint, one deployment.

The RPC URL comes from the caller or ``$WATTNET_RPC_URL``; the deployment from
``wattnet.chain.deployments``. Nothing talks to the node until the first call, so a service can
start while its uplink is down; ``check()`` verifies the chain id and that the contracts exist.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.types import RPCEndpoint

from wattnet.chain.deployments import Deployment, load_abi, load_deployment
from wattnet.errors import ChainError

ENV_RPC_URL = "WATTNET_RPC_URL"
DEFAULT_RPC_URL = "http://127.0.0.1:8545"

SETTLEMENT = "EnergyCredits"  # settlement is built into the credit ledger
REGISTRY = "StationRegistry"


class ChainClient:
    """web3 plus the deployment's contracts (ABIs from the compiled manifest)."""

    def __init__(self, rpc_url: str, deployment: Deployment, *, root: Path | None = None,
                 timeout_s: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self.deployment = deployment
        # The chain id is cached: web3 validates every call and transaction against it, one
        # extra eth_chainId round trip each otherwise; check() compares it with the deployment.
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s},
                                    cache_allowed_requests=True,
                                    cacheable_requests={RPCEndpoint("eth_chainId")}))
        self._root = root
        self._contracts: dict[str, Contract] = {}

    @classmethod
    def from_env(cls, rpc_url: str | None = None, deployment: Deployment | None = None,
                 **kw: Any) -> ChainClient:
        """``$WATTNET_RPC_URL`` (default 127.0.0.1:8545) and ``$WATTNET_DEPLOYMENT``."""
        url = rpc_url or os.environ.get(ENV_RPC_URL) or DEFAULT_RPC_URL
        return cls(url, deployment or load_deployment(), **kw)

    def contract(self, name: str) -> Contract:
        found = self._contracts.get(name)
        if found is None:
            found = self.w3.eth.contract(address=self.w3.to_checksum_address(
                self.deployment.address(name)), abi=load_abi(name, self._root))
            self._contracts[name] = found
        return found

    @property
    def root(self) -> Path | None:
        """The project root whose compiled manifest gives the ABIs (None: this package's)."""
        return self._root

    @property
    def settlement(self) -> Contract:
        return self.contract(SETTLEMENT)

    @property
    def credits(self) -> Contract:
        return self.contract(SETTLEMENT)

    @property
    def registry(self) -> Contract:
        return self.contract(REGISTRY)

    def check(self, chain_id: int | None = None, settlement: str | None = None) -> None:
        """Fail with a clear message when the node, the deployment and the service's own
        settings disagree (wrong RPC URL, stale deployment file, wrong config)."""
        dep = self.deployment
        try:
            node_chain = int(self.w3.eth.chain_id)
            code = self.w3.eth.get_code(self.settlement.address)
        except Exception as exc:
            raise ChainError(f"cannot reach the node at {self.rpc_url}: {exc}") from exc
        if node_chain != dep.chain_id:
            raise ChainError(f"the node at {self.rpc_url} is chain {node_chain}, the deployment "
                             f"{dep.ecosystem}:{dep.network} is chain {dep.chain_id}")
        if chain_id is not None and chain_id != dep.chain_id:
            raise ChainError(f"config chain_id {chain_id} != deployment chain id {dep.chain_id}")
        if settlement is not None and Web3.to_checksum_address(settlement) != \
                self.settlement.address:
            raise ChainError(f"config settlement contract {settlement} is not the deployment's "
                             f"{SETTLEMENT} {self.settlement.address}; fix one of them")
        if not code:
            raise ChainError(f"no contract code at {self.settlement.address} on {self.rpc_url}: "
                             "the deployment file does not match this node (redeploy?)")
