"""Plain helpers of the indexer tests (a uniquely named module, not conftest.py)."""

from __future__ import annotations

from wattnet.api.devnet import Network
from wattnet.chain.web3_client import ChainClient


def client_of(net: Network) -> ChainClient:
    return ChainClient(net.rpc_url, net.deployment)
