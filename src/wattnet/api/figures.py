"""Network figures per weekly epoch and an operator's earnings, from the event index
(:mod:`wattnet.indexer`), with what only the chain knows now: the current epoch and each
epoch's scheduled WATT emission (``RewardsEngine.emissionOf``)."""

from __future__ import annotations

from typing import Any

from web3.exceptions import Web3Exception

from wattnet.api.sessions import driver_address
from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError
from wattnet.indexer import reads
from wattnet.indexer.follow import Indexer

MAX_EPOCHS = 52  # a year of weekly epochs on the charts


def _empty(epoch: int) -> dict[str, Any]:
    return {"epoch": epoch, "sessions": 0, "energy_wh": 0, "undecoded_batches": 0, "fees": {},
            "watt_claimed": "0"}


def network_epochs(client: ChainClient, index: Indexer) -> dict[str, Any]:
    """Every epoch from the first with settlements to the current one (at most the last
    MAX_EPOCHS), oldest first, gaps filled with zeros, each with its scheduled emission."""
    index.step()
    rewards = client.contract("RewardsEngine").functions
    try:
        current = int(rewards.currentEpoch().call())
        found = {e["epoch"]: e for e in reads.epochs(index.store)}
        first = max(min([*found, current]), current - MAX_EPOCHS + 1)
        rows = [found.get(e) or _empty(e) for e in range(first, current + 1)]
        for row in rows:
            row["watt_emission"] = str(int(rewards.emissionOf(row["epoch"]).call()))
    except (Web3Exception, OSError, ValueError) as exc:
        raise ChainError(f"reading the rewards schedule from {client.rpc_url} failed") from exc
    return {"current_epoch": current, "indexed_block": index.cursor(), "epochs": rows}


def operator_earnings(index: Indexer, operator: str) -> dict[str, Any]:
    driver_address(operator)  # the one-line error for a malformed address
    index.step()
    return {**reads.earnings(index.store, operator), "indexed_block": index.cursor()}
