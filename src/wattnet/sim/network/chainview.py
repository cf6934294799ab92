"""The deployment as the simulator sees it: contracts by name (ABIs from the compiled
manifest), calldata for impersonated sends, and many view calls in one JSON-RPC batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_abi.abi import decode
from eth_utils.abi import collapse_if_tuple
from web3 import Web3
from web3.contract import Contract

from wattnet.chain.deployments import Deployment, load_abi
from wattnet.sim.network.node import Rpc

Call = tuple[str, str, Sequence[Any]]  # (contract name, function, args)

CONTRACTS = ("WattToken", "OperatorStaking", "RewardsEngine", "StationRegistry", "EnergyCredits",
             "MockStablecoin")


class ChainView:
    def __init__(self, rpc: Rpc, deployment: Deployment) -> None:
        self.rpc = rpc
        self.deployment = deployment
        self.w3 = Web3()  # encoding only; every request goes through ``rpc``
        self.contracts: dict[str, Contract] = {}
        for name in CONTRACTS[:-1]:
            self.contracts[name] = self.w3.eth.contract(
                address=Web3.to_checksum_address(deployment.address(name)),
                abi=load_abi(name))
        # The stablecoin behind credit id 1, whatever the record calls it (a mock on local
        # chains: drivers mint their own).
        coin = self.one("EnergyCredits", "tokenOf", 1)
        self.contracts["MockStablecoin"] = self.w3.eth.contract(
            address=Web3.to_checksum_address(coin), abi=load_abi("MockStablecoin"))

    def add_contract(self, name: str) -> None:
        """Also read and write contract ``name`` of the deployment (one outside CONTRACTS)."""
        if name not in self.contracts:
            self.contracts[name] = self.w3.eth.contract(
                address=Web3.to_checksum_address(self.deployment.address(name)),
                abi=load_abi(name))

    def address(self, name: str) -> str:
        return str(self.contracts[name].address)

    def data(self, name: str, fn: str, *args: Any) -> str:
        return str(self.contracts[name].encode_abi(fn, args=list(args)))

    def tx(self, sender: str, name: str, fn: str, *args: Any) -> tuple[str, str, str]:
        """(from, to, calldata) for :meth:`Rpc.send`."""
        return (sender, self.address(name), self.data(name, fn, *args))

    def read(self, calls: Sequence[Call]) -> list[Any]:
        """View calls at the latest block, in batches; single outputs are unwrapped."""
        out: list[Any] = []
        for lo in range(0, len(calls), 500):
            part = calls[lo:lo + 500]
            reqs = [("eth_call", [{"to": self.address(n), "data": self.data(n, f, *a)}, "latest"])
                    for n, f, a in part]
            for (n, f, _), raw in zip(part, self.rpc.batch(reqs), strict=True):
                abi = self.contracts[n].get_function_by_name(f).abi
                types = [collapse_if_tuple(dict(o)) for o in abi["outputs"]]
                values = decode(types, bytes.fromhex(str(raw)[2:]))
                out.append(values[0] if len(values) == 1 else values)
        return out

    def one(self, name: str, fn: str, *args: Any) -> Any:
        return self.read([(name, fn, args)])[0]

    def logs(self, name: str, event: str, from_block: int) -> list[Any]:
        """Decoded logs of one event of one contract since ``from_block``."""
        ev = getattr(self.contracts[name].events, event)()
        topic = "0x" + bytes(self.w3.keccak(text=_signature(ev.abi))).hex()
        raw = self.rpc.call("eth_getLogs", {"fromBlock": hex(from_block), "toBlock": "latest",
                                            "address": self.address(name), "topics": [topic]})
        out = []
        for item in raw:
            entry = {**item, "topics": [bytes.fromhex(t[2:]) for t in item["topics"]],
                     "data": bytes.fromhex(item["data"][2:]),
                     "blockNumber": int(item["blockNumber"], 16),
                     "logIndex": int(item["logIndex"], 16),
                     "transactionIndex": int(item["transactionIndex"], 16),
                     "transactionHash": bytes.fromhex(item["transactionHash"][2:]),
                     "blockHash": bytes.fromhex(item["blockHash"][2:])}
            out.append(ev.process_log(entry))
        return out

    def txs_to(self, sender: str, name: str, from_block: int) -> list[str]:
        """Hashes of every transaction from ``sender`` to contract ``name`` since
        ``from_block``, reverted ones included (they leave no logs to find them by)."""
        head = int(self.rpc.call("eth_blockNumber"), 16)
        me, to = sender.lower(), self.address(name).lower()
        out: list[str] = []
        for lo in range(from_block, head + 1, 200):
            blocks = self.rpc.batch([("eth_getBlockByNumber", [hex(n), True])
                                     for n in range(lo, min(lo + 200, head + 1))])
            out += [t["hash"] for b in blocks if b for t in b["transactions"]
                    if str(t.get("from", "")).lower() == me
                    and str(t.get("to") or "").lower() == to]
        return out


def _signature(abi: Any) -> str:
    return f"{abi['name']}({','.join(collapse_if_tuple(dict(i)) for i in abi['inputs'])})"
