"""Chain reads for the web app: the deployment's addresses, the registry's stations and the
network figures. Plain web3 through :class:`wattnet.chain.web3_client.ChainClient`.

Stations are found from the registry's ``StationRegistered`` logs since the deployment block
(the registry has no enumeration), then read with ``getStation`` and ``settlementView`` so the
list shows the current state (rotations, deactivation, tariff changes), not the log's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from web3.exceptions import Web3Exception

from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError

APP_CONTRACTS = ("EnergyCredits", "StationRegistry", "WattToken", "OperatorStaking")
MAX_CREDIT_IDS = 8  # credit ids the app lists (1..N, stopping at the first unlisted one)
ERC20_META = [  # the two views of a stablecoin the app shows; ABIs for writes are generated
    {"type": "function", "name": "symbol", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "string"}]},
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
]
ZERO = "0x0000000000000000000000000000000000000000"


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


class ChainReads:
    """What the app reads from the chain, on one client (one node, one deployment)."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client

    def _call(self, what: str, fn: Any) -> Any:
        try:
            return fn.call()
        except (Web3Exception, OSError, ValueError) as exc:
            raise ChainError(f"reading {what} from {self.client.rpc_url} failed: {exc}") from exc

    def credits(self) -> list[Credit]:
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
                "credits": [asdict(c) for c in self.credits()]}

    def station_ids(self) -> list[bytes]:
        event = self.client.registry.events.StationRegistered
        try:
            logs = event.get_logs(from_block=self.client.deployment.block)
        except (Web3Exception, OSError, ValueError) as exc:
            raise ChainError(f"reading station registrations failed: {exc}") from exc
        seen: dict[bytes, None] = {}
        for log in logs:
            seen[bytes(log["args"]["stationId"])] = None
        return list(seen)

    def stations(self) -> list[StationRow]:
        registry = self.client.registry
        credit_ids = [c.id for c in self.credits()]
        rows = []
        for sid in self.station_ids():
            st = self._call("getStation", registry.functions.getStation(sid))
            tariffs: dict[str, int] = {}
            usable = False
            for cid in credit_ids:
                view = self._call("settlementView", registry.functions.settlementView(sid, cid))
                usable = usable or bool(view[3])
                if int(view[5][0]):
                    tariffs[str(cid)] = int(view[5][0])
            uri = self._metadata_uri(sid)
            rows.append(StationRow(
                id="0x" + sid.hex(), operator=st[0], signer=st[6], rated_power_w=int(st[1]),
                connectors=int(st[2]), active=bool(st[3]), certified=bool(st[5]), usable=usable,
                geohash=bytes(st[7]).rstrip(b"\0").decode("ascii", "replace"),
                metadata_uri=uri, tariffs=tariffs))
        return rows

    def _metadata_uri(self, sid: bytes) -> str:
        registry = self.client.registry
        latest = ""
        for ev in (registry.events.StationRegistered, registry.events.MetadataChanged):
            logs = ev.get_logs(from_block=self.client.deployment.block,
                               argument_filters={"stationId": sid})
            if logs:
                latest = str(logs[-1]["args"]["metadataURI"])
        return latest

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
        return {"block": int(self.client.w3.eth.block_number),
                "stations": len(stations),
                "stations_active": sum(1 for s in stations if s.active),
                "rated_power_w": sum(s.rated_power_w for s in stations if s.active),
                "credits": per_credit}
