"""Chain reads for the web app: the deployment's addresses, the registry's stations and the
network figures. Plain web3 through :class:`wattnet.chain.web3_client.ChainClient`.

Stations are found from the registry's ``StationRegistered`` logs (the registry has no
enumeration): from the event index when the server has one (:mod:`wattnet.indexer`), else
scanned since the deployment block; then read with ``getStation`` and ``settlementView`` so the
list shows the current state (rotations, deactivation, tariff changes), not the log's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from web3.exceptions import Web3Exception

from wattnet.chain.eip712 import Domain
from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError
from wattnet.indexer import reads
from wattnet.indexer.follow import Indexer

APP_CONTRACTS = ("EnergyCredits", "StationRegistry", "WattToken", "OperatorStaking",
                 "RewardsEngine", "WattGovernor")
MAX_CREDIT_IDS = 8  # credit ids the app lists (1..N, stopping at the first unlisted one)
ERC20_META = [  # the two views of a stablecoin the app shows; ABIs for writes are generated
    {"type": "function", "name": "symbol", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "string"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
]
ZERO = "0x0000000000000000000000000000000000000000"
LOCAL_CHAIN_ID = 31337  # anvil's: stablecoins there are the deploy's mocks


@dataclass(frozen=True, slots=True)
class Credit:
    id: int
    token: str
    symbol: str
    decimals: int


@dataclass(frozen=True, slots=True)
class StationRow:
    id: str
    operator: str
    signer: str
    rated_power_w: int
    connectors: int
    active: bool
    certified: bool
    usable: bool
    geohash: str
    metadata_uri: str
    tariffs: dict[str, int]  # credit id -> credit wei per kWh (current)


def domain_json(d: Domain) -> dict[str, Any]:
    """An EIP-712 domain as viem's signTypedData / recoverTypedDataAddress take it."""
    return {"name": d.name, "version": d.version, "chainId": d.chain_id,
            "verifyingContract": d.verifying_contract}


class ChainReads:
    """What the app reads from the chain, on one client (one node, one deployment)."""

    def __init__(self, client: ChainClient, index: Indexer | None = None) -> None:
        self.client = client
        self.index = index
        self._lock = threading.Lock()
        self._memo: dict[str, tuple[int, Any]] = {}

    def _call(self, what: str, fn: Any) -> Any:
        try:
            return fn.call()
        except (Web3Exception, OSError, ValueError) as exc:
            raise ChainError(f"reading {what} from {self.client.rpc_url} failed: {exc}") from exc

    def credits(self) -> list[Credit]:
        return list(self.at_head("credits", self._credits))

    def _credits(self) -> list[Credit]:
        ledger = self.client.credits
        out = []
        for cid in range(1, MAX_CREDIT_IDS + 1):
            token = self._call(f"tokenOf({cid})", ledger.functions.tokenOf(cid))
            if token == ZERO:
                break
            erc20 = self.client.w3.eth.contract(address=token, abi=ERC20_META)
            out.append(Credit(cid, token, str(self._call("symbol", erc20.functions.symbol())),
                              int(self._call("decimals", erc20.functions.decimals()))))
        return out

    def config(self) -> dict[str, Any]:
        dep = self.client.deployment
        return {"chain_id": dep.chain_id, "network": f"{dep.ecosystem}:{dep.network}",
                "contracts": {n: dep.contracts[n] for n in APP_CONTRACTS if n in dep.contracts},
                "credits": [asdict(c) for c in self.credits()],
                # receipts are EIP-712 signed under this domain (the app verifies them)
                "receipt_domain": domain_json(Domain(dep.chain_id, dep.address("EnergyCredits"))),
                # mock stablecoins with an open mint: the deploy creates them on local chains
                "test_tokens": [a for n, a in dep.contracts.items()
                                if dep.chain_id == LOCAL_CHAIN_ID
                                and (n == "MockStablecoin" or n.startswith("stablecoin."))]}

    def _logs(self, event: Any) -> list[Any]:
        try:
            return list(event.get_logs(from_block=self.client.deployment.block))
        except (Web3Exception, OSError, ValueError) as exc:
            raise ChainError(f"reading {event.event_name} logs failed: {exc}") from exc

    def station_uris(self) -> dict[bytes, str]:
        """Every registered station id with its current metadata URI, in registration order."""
        if self.index is not None:
            self.index.step()
            return reads.station_uris(self.index.store)
        registry = self.client.registry
        uris: dict[bytes, str] = {}
        for log in self._logs(registry.events.StationRegistered):
            uris[bytes(log["args"]["stationId"])] = str(log["args"]["metadataURI"])
        for log in self._logs(registry.events.MetadataChanged):
            uris[bytes(log["args"]["stationId"])] = str(log["args"]["metadataURI"])
        return uris

    def stations(self) -> list[StationRow]:
        return list(self.at_head("stations", self._stations))

    def _stations(self) -> list[StationRow]:
        registry = self.client.registry
        credit_ids = [c.id for c in self.credits()]
        rows = []
        for sid, uri in self.station_uris().items():
            st = self._call("getStation", registry.functions.getStation(sid))
            tariffs: dict[str, int] = {}
            usable = False
            for cid in credit_ids:
                view = self._call("settlementView", registry.functions.settlementView(sid, cid))
                usable = usable or bool(view[3])
                if int(view[5][0]):
                    tariffs[str(cid)] = int(view[5][0])
            rows.append(StationRow(
                id="0x" + sid.hex(), operator=st[0], signer=st[6], rated_power_w=int(st[1]),
                connectors=int(st[2]), active=bool(st[3]), certified=bool(st[5]), usable=usable,
                geohash=bytes(st[7]).rstrip(b"\0").decode("ascii", "replace"),
                metadata_uri=uri, tariffs=tariffs))
        return rows

    def at_head(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` as of the chain's head, computed once per block: what the chain said
        at a block does not change, and the page asks for stations and figures at once."""
        head = self.head()
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None and hit[0] == head:
                return hit[1]
        value = compute()
        with self._lock:
            self._memo[key] = (head, value)
        return value

    def head(self) -> int:
        try:
            return int(self.client.w3.eth.block_number)
        except (Web3Exception, OSError, ValueError) as exc:
            raise ChainError(f"the node at {self.client.rpc_url} did not answer: {exc}") from exc

    def network(self, stations: list[StationRow]) -> dict[str, Any]:
        ledger = self.client.credits
        per_credit = []
        for c in self.credits():
            per_credit.append({
                "id": c.id, "symbol": c.symbol, "decimals": c.decimals,
                "outstanding": str(self._call("totalSupply", ledger.functions.totalSupply(c.id))),
                "owed": str(self._call("totalOwed", ledger.functions.totalOwed(c.id))),
                "pending_redemptions": str(self._call(
                    "totalPendingRedemptions", ledger.functions.totalPendingRedemptions(c.id))),
            })
        return {"block": self.head(),
                "stations": len(stations),
                "stations_active": sum(1 for s in stations if s.active),
                "rated_power_w": sum(s.rated_power_w for s in stations if s.active),
                "credits": per_credit}
