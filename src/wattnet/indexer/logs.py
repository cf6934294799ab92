"""Which logs the index keeps, and their decoding: one ``eth_getLogs`` per block range covers
every followed contract (addresses and event topics as filters), each log decoded with its
contract's ABI from the compiled manifest (never hand-copied)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract

from wattnet.chain.web3_client import ChainClient

# contract name in the deployment -> the events the index keeps
FOLLOWED: dict[str, tuple[str, ...]] = {
    "StationRegistry": ("StationRegistered", "MetadataChanged", "TariffChanged",
                        "StationStatusChanged", "SignerRotated", "StationReleased"),
    "EnergyCredits": ("BatchSettled", "ReceiptRejected", "ReferrerSet", "SharesChanged",
                      "PayoutWithdrawn"),
    "RewardsEngine": ("RewardsClaimed", "RewardsForfeited"),
    "WattGovernor": ("ProposalCreated", "VoteCast", "ProposalQueued", "ProposalExecuted",
                     "ProposalCanceled"),
}
# the argument a row is looked up by (a station, a proposal, a driver, a payee), first found
SUBJECTS = ("stationId", "proposalId", "driver", "payee")


@dataclass(frozen=True, slots=True)
class Decoded:
    block: int
    log_index: int
    tx_hash: bytes
    contract: str
    event: str
    args: dict[str, Any]

    @property
    def subject(self) -> str | None:
        for key in SUBJECTS:
            if key in self.args:
                return str(self.args[key])
        return None

    def args_json(self) -> str:
        return json.dumps(self.args, sort_keys=True)


def plain(value: Any) -> Any:
    """A decoded ABI value as JSON keeps it exactly: ints as decimal text, bytes as 0x hex."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


class LogDecoder:
    """The followed contracts of one deployment: the filter and the decoder of their logs."""

    def __init__(self, client: ChainClient) -> None:
        deployed = client.deployment.contracts
        self._w3 = client.w3
        self._by_topic: dict[tuple[str, bytes], tuple[str, dict[str, Any]]] = {}
        self.addresses: list[str] = []
        topics: list[str] = []
        for name, events in FOLLOWED.items():
            if name not in deployed:
                continue
            contract: Contract = client.contract(name)
            address = str(contract.address).lower()
            self.addresses.append(Web3.to_checksum_address(address))
            for event in events:
                abi: dict[str, Any] = dict(next(
                    e for e in contract.abi if e.get("type") == "event" and e.get("name") == event))
                topic = keccak(text=_signature(abi))
                self._by_topic[(address, topic)] = (name, abi)
                if "0x" + topic.hex() not in topics:
                    topics.append("0x" + topic.hex())
        self.topics = topics

    def decode(self, log: Any) -> Decoded | None:
        """The log decoded, or None when it is not one the index keeps."""
        if not log["topics"]:
            return None
        key = (str(log["address"]).lower(), bytes(log["topics"][0]))
        found = self._by_topic.get(key)
        if found is None:
            return None
        name, abi = found
        data = get_event_data(self._w3.codec, abi, log)
        return Decoded(int(log["blockNumber"]), int(log["logIndex"]), bytes(log["transactionHash"]),
                       name, str(abi["name"]), {k: plain(v) for k, v in data["args"].items()})


def _signature(abi: dict[str, Any]) -> str:
    def kind(i: dict[str, Any]) -> str:
        t = str(i["type"])
        if t.startswith("tuple"):
            return "(" + ",".join(kind(c) for c in i["components"]) + ")" + t[5:]
        return t
    return f"{abi['name']}({','.join(kind(i) for i in abi['inputs'])})"
